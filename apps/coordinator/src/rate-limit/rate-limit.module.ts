// Rate-limit feature: the global guard (installed after the auth guard) and the header
// interceptor; the accounting writes usage through UsageModule.
import { Module } from '@nestjs/common';
import { UsageModule } from '../usage/usage.module';
import { RateLimitHeadersInterceptor } from './rate-limit-headers.interceptor';
import { RateLimitGuard } from './rate-limit.guard';

@Module({ imports: [UsageModule], providers: [RateLimitGuard, RateLimitHeadersInterceptor], exports: [RateLimitGuard, RateLimitHeadersInterceptor] })
export class RateLimitModule {}
