// The global auth guard: once any API key exists (or with --require-api-key), every route but the
// open ones (open-routes.ts) needs `Authorization: Bearer KEY`; otherwise 401 invalid_api_key in
// OpenAI's shape. Only the key's sha256 is looked up, then compared in constant time. Redis out
// of reach: 503 store_unavailable (fails closed). Runs before any body validation, template or
// tokenizer work. Tests: test/e2e/control-plane.test.ts.
import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import { hashApiKey } from '../../../../libs/store/src/api-key-record';
import type { Store } from '../../../../libs/store/src/store';
import { requestContext, type ContextRequest } from '../http/request-context';
import { invalidApiKey, orUnavailable } from '../store/store-errors';
import { ACCESS_POLICY, STORE, type AccessPolicy } from '../store/store.tokens';
import { bearerToken, isSameHash } from './bearer-token';
import { isOpenRoute } from './open-routes';

@Injectable()
export class ApiKeyGuard implements CanActivate {
  private readonly logger = new Logger('Auth');

  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(ACCESS_POLICY) private readonly policy: AccessPolicy,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<ContextRequest>();
    if (isOpenRoute(req.url ?? '/', this.policy.metricsAuth)) return true;
    const token = bearerToken(req.headers);
    return orUnavailable(async () => {
      if (token !== undefined) {
        const hash = hashApiKey(token);
        const record = await this.store.findApiKeyByHash(hash);
        if (record && isSameHash(record.hash, hash)) {
          requestContext(req).apiKey = record;
          this.store.touchApiKey(record.id, Date.now()).catch((err: Error) => this.logger.warn(`last-used time of ${record.id} not saved: ${err.message}`));
          return true;
        }
      }
      // no keys configured: open, as before keys existed (clients send any key, the SDK insists)
      if (!this.policy.requireApiKey && (await this.store.numApiKeys()) === 0) return true;
      throw invalidApiKey(token !== undefined);
    });
  }
}
