export * from './ui.controller';
export * from './ui.module';
export * from './ui-page-files';
