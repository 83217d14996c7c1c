export * from './request-validation';
export * from './tokenizer-app';
export * from './turn-tracker';
