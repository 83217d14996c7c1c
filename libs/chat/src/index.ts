export { ChatModule } from './chat.module';
export type { ChatModuleOptions } from './chat.options';
export type { OllamaModuleOptions } from './ollama/ollama.options';
