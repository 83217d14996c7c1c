export * from './fake-snapshots';
