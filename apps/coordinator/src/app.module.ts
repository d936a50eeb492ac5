// The coordinator's Nest module: the OpenAI routes, health, metrics, and the engine loop, around
// a ModelRuntime loaded before Nest starts (coordinator.bootstrap.ts), plus the control plane's
// feature modules (auth, rate limits, usage) on the Store (Redis or memory).
import { DynamicModule, Module } from '@nestjs/common';
import { MemoryStore } from '../../../libs/store/src/memory-store';
import type { Store } from '../../../libs/store/src/store';
import { AuthModule } from './auth/auth.module';
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
import { RateLimitModule } from './rate-limit/rate-limit.module';
import { StoreModule } from './store/store.module';
import { UsageModule } from './usage/usage.module';
import { TokenizeController } from './openai/tokenize.controller';
import { TokenizeService } from './openai/tokenize.service';

@Module({})
export class AppModule {
  static register(
    runtime: ModelRuntime,
    store: Store = new MemoryStore(),
    metrics: MetricsService = new MetricsService(runtime.config.servedModelName),
  ): DynamicModule {
    const { requireApiKey, metricsAuth } = runtime.config;
    return {
      module: AppModule,
      imports: [StoreModule.register(store, { requireApiKey, metricsAuth }), AuthModule, UsageModule, RateLimitModule],
      controllers: [ChatCompletionsController, CompletionsController, ModelsController, TokenizeController, HealthController, MetricsController],
      providers: [
        { provide: ModelRuntime, useValue: runtime },
        { provide: MetricsService, useValue: metrics },
        EngineLoopService,
        ChatCompletionsService,
        CompletionsService,
        TokenizeService,
      ],
    };
  }
}
