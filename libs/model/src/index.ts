export * from './model.contract';
export * from './model.module';
export * from './model.options';
export * from './model.service';
