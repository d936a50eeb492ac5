// GET /v1/models and GET /v1/models/:id: the one model this replica serves (its root is the
// served name, never the model's path on the server).
import { Controller, Get, Inject, Param } from '@nestjs/common';
import type { ModelCard, ModelList } from '../../../../libs/openai-protocol/src/completion.types';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { ModelRuntime } from '../engine/model-runtime';

@Controller('v1/models')
export class ModelsController {
  constructor(@Inject(ModelRuntime) private readonly runtime: ModelRuntime) {}

  @Get()
  list(): ModelList {
    return { object: 'list', data: [this.card()] };
  }

  @Get(':id')
  get(@Param('id') id: string): ModelCard {
    if (id !== this.runtime.config.servedModelName) throw OpenAiError.modelNotFound(id);
    return this.card();
  }

  private card(): ModelCard {
    const { config, createdAt, maxModelLen } = this.runtime;
    return { id: config.servedModelName, object: 'model', created: createdAt, owned_by: 'tpserve', root: config.servedModelName, max_model_len: maxModelLen };
  }
}
