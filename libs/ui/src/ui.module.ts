import { Module } from '@nestjs/common';
import { UiController } from './ui.controller';
import { UiPageFiles } from './ui-page-files';

/** The built-in chat page at /ui (static files, no CDN). `GET /` stays Ollama's `Ollama is running`. */
@Module({
  controllers: [UiController],
  providers: [UiPageFiles],
})
export class UiModule {}
