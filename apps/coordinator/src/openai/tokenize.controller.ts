// POST /tokenize and POST /detokenize (vLLM's routes, outside /v1).
import { Body, Controller, HttpCode, Inject, Post } from '@nestjs/common';
import { TokenizeService, type DetokenizeResponse, type TokenizeResponse } from './tokenize.service';

@Controller()
export class TokenizeController {
  constructor(@Inject(TokenizeService) private readonly service: TokenizeService) {}

  @Post('tokenize')
  @HttpCode(200)
  tokenize(@Body() body: unknown): TokenizeResponse {
    return this.service.tokenize(body);
  }

  @Post('detokenize')
  @HttpCode(200)
  detokenize(@Body() body: unknown): DetokenizeResponse {
    return this.service.detokenize(body);
  }
}
