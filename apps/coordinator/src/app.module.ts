// The coordinator's Nest module: the OpenAI routes, health, metrics, and the engine loop, around
// a ModelRuntime loaded before Nest starts (coordinator.bootstrap.ts).
import { DynamicModule, Module } from '@nestjs/common';
import { EngineLoopService } from './engine/engine-loop.service';
import { ModelRuntime } from './engine/model-runtime';
import { HealthController } from './health/health.controller';
import { MetricsController } from './metrics/metrics.controller';
import { MetricsService } from './metrics/metrics.service';
import { ChatCompletionsController } from './openai/chat-completions.controller';
import { ChatCompletionsService } from './openai/chat-completions.service';
import { CompletionsController } from './openai/completions.controller';
import { CompletionsService } from './openai/completions.service';
import { ModelsController } from './openai/models.controller';
import { PromptPool } from './openai/prompt-pool';

@Module({})
export class AppModule {
  static register(runtime: ModelRuntime, metrics: MetricsService = new MetricsService()): DynamicModule {
    return {
      module: AppModule,
      controllers: [ChatCompletionsController, CompletionsController, ModelsController, HealthController, MetricsController],
      providers: [
        { provide: ModelRuntime, useValue: runtime },
        { provide: MetricsService, useValue: metrics },
        EngineLoopService,
        { provide: PromptPool, useFactory: (rt: ModelRuntime) => new PromptPool(rt.config.modelDir, rt.config.promptThreads), inject: [ModelRuntime] },
        ChatCompletionsService,
        CompletionsService,
      ],
    };
  }
}
