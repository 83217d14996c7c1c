export * from './tokenizer-bridge';
export * from './tokenizer-client';
export * from './tokenizer.contract';
export * from './tokenizer.module';
export * from './tokenizer.options';
export { BUILTIN_TOKENIZER_RUNTIME, type TokenizerChild, TokenizerProcess } from './tokenizer-process';
export * from './tokenizer-supervisor';
export * from './upstream-prompt-line';
