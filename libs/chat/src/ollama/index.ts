export * from './ollama.constants';
export * from './ollama.module';
export { OllamaModelFiles } from './ollama-model-files';
export { OllamaModelInfo } from './ollama-model-info';
