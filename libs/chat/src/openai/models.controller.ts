import { Controller, Get, Param, Req, Res, UseGuards } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ChatPipeline } from '../pipeline/chat-pipeline';
import { CatalogEntry, ModelCatalog } from '../pipeline/model-catalog';
import { ApiKeyGuard } from './api-key.guard';

export function modelObject(entry: CatalogEntry) {
  return { id: entry.id, object: 'model' as const, created: entry.created, owned_by: 'qwen-chat' };
}

@Controller('v1/models')
@UseGuards(ApiKeyGuard)
export class ModelsController {
  constructor(
    private readonly catalog: ModelCatalog,
    private readonly pipeline: ChatPipeline,
  ) {}

  @Get()
  list(@Req() req: Request, @Res() res: Response): void {
    this.pipeline.open(req, res, 'openai');
    res.json({ object: 'list', data: [modelObject(this.catalog.model)] });
  }

  /** Ids may contain `/` and `:` (`Qwen/Qwen2.5-1.5B-Instruct`, `qwen2.5:1.5b`), raw or percent-encoded. */
  @Get('*id')
  retrieve(@Param('id') id: string | string[], @Req() req: Request, @Res() res: Response): void {
    this.pipeline.open(req, res, 'openai');
    const name = Array.isArray(id) ? id.join('/') : id;
    this.catalog.resolve(name);
    res.json(modelObject(this.catalog.model));
  }
}
