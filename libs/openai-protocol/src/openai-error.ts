// OpenAI's error shape, {"error":{"message","type","param","code"}}, as one Error class carrying
// the HTTP status (and headers such as Retry-After), so every layer can throw it and the HTTP
// layer writes it unchanged. Types follow OpenAI / vLLM: invalid_request_error for 4xx input
// errors, rate_limit_error for 429, server_error / service_unavailable_error / timeout_error.
// The body of a server error (5xx) carries no pid or server path (client-message.ts).
import { clientSafeMessage } from './client-message';

export interface OpenAiErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

function defaultType(status: number): string {
  if (status === 429) return 'rate_limit_error';
  if (status === 503) return 'service_unavailable_error';
  if (status === 504) return 'timeout_error';
  if (status >= 500) return 'server_error';
  return 'invalid_request_error';
}

export class OpenAiError extends Error {
  override readonly name = 'OpenAiError';
  readonly type: string;

  constructor(
    readonly status: number,
    message: string,
    readonly param: string | null = null,
    readonly code: string | null = null,
    options: { type?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.type = options.type ?? defaultType(status);
    this.headers = options.headers ?? {};
  }

  readonly headers: Record<string, string>;

  /** 400 invalid_request_error naming the offending parameter. */
  static invalid(message: string, param: string | null = null, code: string | null = null): OpenAiError {
    return new OpenAiError(400, message, param, code);
  }

  static modelNotFound(model: string): OpenAiError {
    return new OpenAiError(404, `The model \`${model}\` does not exist or you do not have access to it.`, 'model', 'model_not_found');
  }

  toBody(): OpenAiErrorBody {
    const message = this.status >= 500 ? clientSafeMessage(this.message) : this.message;
    return { error: { message, type: this.type, param: this.param, code: this.code } };
  }
}
