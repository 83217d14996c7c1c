import { All, Controller, Get, Header, HttpCode, Inject, Post, Req, Res, UseGuards } from '@nestjs/common';
import { CurrentRequest, RequestContext } from '@qwen/http';
import type { Request, Response } from 'express';
import { OllamaApiKeyGuard } from './ollama-api-key.guard';
import { OllamaGenerationService } from './ollama-generation.service';
import { OllamaHttpError } from './ollama-http-error';
import { OllamaModelInfo, OllamaRunningEntry, OllamaShowResponse, OllamaTagEntry } from './ollama-model-info';
import { ndjsonLine } from './ollama-ndjson.writer';
import { OllamaRequestReader } from './ollama-request-reader';
import { OllamaChatRequestDto, OllamaGenerateRequestDto, OllamaModelNameRequestDto } from './ollama-request.dto';
import { planChat, planGenerate } from './ollama-request.mapper';
import { NDJSON_CONTENT_TYPE } from './ollama.constants';
import { OLLAMA_OPTIONS, OllamaModuleOptions } from './ollama.options';

/** `GET|HEAD /`: Ollama clients probe the server with it. */
@Controller()
export class OllamaRootController {
  @Get()
  @Header('Content-Type', 'text/plain; charset=utf-8')
  root(): string {
    return 'Ollama is running';
  }
}

/** The Ollama API (docs/api.md of Ollama): thin handlers that validate and delegate. */
@Controller('api')
@UseGuards(OllamaApiKeyGuard)
export class OllamaApiController {
  constructor(
    private readonly reader: OllamaRequestReader,
    private readonly modelInfo: OllamaModelInfo,
    private readonly generation: OllamaGenerationService,
    @Inject(OLLAMA_OPTIONS) private readonly options: OllamaModuleOptions,
  ) {}

  /** The Ollama version this dialect reports (`chat.ollamaVersion`; clients gate features on it). */
  @Get('version')
  version(): { version: string } {
    return { version: this.options.version };
  }

  @Get('tags')
  async tags(): Promise<{ models: OllamaTagEntry[] }> {
    return { models: [await this.modelInfo.tag()] };
  }

  @Get('ps')
  async ps(): Promise<{ models: OllamaRunningEntry[] }> {
    const running = await this.modelInfo.running();
    return { models: running ? [running] : [] };
  }

  @Post('show')
  @HttpCode(200)
  async show(@Req() req: Request): Promise<OllamaShowResponse> {
    const { dto } = await this.reader.read(req, OllamaModelNameRequestDto);
    this.modelInfo.assertServed(requiredName(dto));
    return this.modelInfo.show();
  }

  /** The configured model is already local: success (streamed as status lines by default); any other name is 404. */
  @Post('pull')
  async pull(@Req() req: Request, @Res() res: Response): Promise<void> {
    const { dto } = await this.reader.read(req, OllamaModelNameRequestDto);
    const name = requiredName(dto);
    if (!this.modelInfo.isOwnName(name)) {
      throw new OllamaHttpError(404, `pull model manifest: file does not exist: this server serves only ${this.modelInfo.name} and cannot download '${name}'`);
    }
    if (dto.stream === false) {
      res.status(200).json({ status: 'success' });
      return;
    }
    res.status(200).type(NDJSON_CONTENT_TYPE);
    res.write(ndjsonLine({ status: `${this.modelInfo.name} is already available locally` }));
    res.end(ndjsonLine({ status: 'success' }));
  }

  @Post('chat')
  async chat(@CurrentRequest() request: RequestContext, @Res() _res: Response): Promise<void> {
    const { dto, raw } = await this.reader.read(request.req, OllamaChatRequestDto);
    await this.generation.run(request, 'chat', planChat(dto, raw, this.modelInfo.snapshot().maxTokenLen));
  }

  @Post('generate')
  async generate(@CurrentRequest() request: RequestContext, @Res() _res: Response): Promise<void> {
    const { dto, raw } = await this.reader.read(request.req, OllamaGenerateRequestDto);
    await this.generation.run(request, 'generate', planGenerate(dto, raw, this.modelInfo.snapshot().maxTokenLen));
  }

  @All(['embed', 'embeddings'])
  embeddings(): never {
    throw new OllamaHttpError(501, 'embeddings are not supported: this server runs a chat model only');
  }

  @All(['create', 'copy', 'delete', 'push', 'blobs/*digest'])
  modelManagement(): never {
    throw new OllamaHttpError(501, 'not supported: this server serves one fixed model; it cannot create, copy, delete or push models');
  }
}

function requiredName(dto: OllamaModelNameRequestDto): string {
  const name = dto.model || dto.name;
  if (!name) throw new OllamaHttpError(400, 'model is required');
  return name;
}
