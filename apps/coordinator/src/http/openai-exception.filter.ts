// Every error that reaches Nest (unknown route, bad method, a thrown OpenAiError, a bug) is
// answered in OpenAI's error shape; a response already streaming is just ended.
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { ServerResponse } from 'node:http';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import { sendError } from '../openai/openai-http';

@Catch()
export class OpenAiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Http');

  catch(exception: unknown, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<ServerResponse>();
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const code = status === 404 ? 'not_found' : status === 405 ? 'method_not_allowed' : null;
      sendError(res, new OpenAiError(status, exception.message, null, code));
      return;
    }
    if (!(exception instanceof OpenAiError)) this.logger.error(exception instanceof Error ? (exception.stack ?? exception.message) : String(exception));
    sendError(res, exception);
  }
}
