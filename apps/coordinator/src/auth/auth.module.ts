// Auth feature: the global API-key guard (bootstrap installs it first of the global guards).
import { Module } from '@nestjs/common';
import { ApiKeyGuard } from './api-key.guard';

@Module({ providers: [ApiKeyGuard], exports: [ApiKeyGuard] })
export class AuthModule {}
