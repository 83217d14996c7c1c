export * from './tokenizer.contract';
export * from './tokenizer.module';
export * from './tokenizer.options';
export * from './tokenizer-supervisor';
