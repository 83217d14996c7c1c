import { Controller, Get, Param, UseGuards } from '@nestjs/common';
import { CatalogEntry, ModelCatalog } from '../pipeline/model-catalog';
import { ApiKeyGuard } from './api-key.guard';

function modelObject(entry: CatalogEntry) {
  return { id: entry.id, object: 'model' as const, created: entry.created, owned_by: 'qwen-chat' };
}

@Controller('v1/models')
@UseGuards(ApiKeyGuard)
export class ModelsController {
  constructor(private readonly catalog: ModelCatalog) {}

  @Get()
  list() {
    return { object: 'list', data: [modelObject(this.catalog.model)] };
  }

  /** Ids may contain `/` and `:` (`Qwen/Qwen2.5-1.5B-Instruct`, `qwen2.5:1.5b`), raw or percent-encoded. */
  @Get('*id')
  retrieve(@Param('id') id: string | string[]) {
    const name = Array.isArray(id) ? id.join('/') : id;
    this.catalog.resolve(name);
    return modelObject(this.catalog.model);
  }
}
