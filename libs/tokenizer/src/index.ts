export * from './tokenizer.contract';
export * from './tokenizer.module';
