// The global rate-limit guard (after ApiKeyGuard): every POST route that needs a key gets a
// RequestAccounting and is counted against its key's rpm (and refused while tpm is spent). The
// generation services reserve tokens through it after tokenizing; GET routes are not counted.
import { CanActivate, ExecutionContext, Inject, Injectable, Logger } from '@nestjs/common';
import type { Store } from '../../../../libs/store/src/store';
import { isOpenRoute } from '../auth/open-routes';
import { requestContext, type ContextRequest } from '../http/request-context';
import { ACCESS_POLICY, STORE, type AccessPolicy } from '../store/store.tokens';
import { UsageRecorder } from '../usage/usage-recorder.service';
import { RequestAccounting } from './request-accounting';

@Injectable()
export class RateLimitGuard implements CanActivate {
  private readonly logger = new Logger('RateLimit');

  constructor(
    @Inject(STORE) private readonly store: Store,
    @Inject(ACCESS_POLICY) private readonly policy: AccessPolicy,
    @Inject(UsageRecorder) private readonly usage: UsageRecorder,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const req = context.switchToHttp().getRequest<ContextRequest>();
    if (req.method !== 'POST' || isOpenRoute(req.url ?? '/', this.policy.metricsAuth)) return true;
    const ctx = requestContext(req);
    ctx.accounting = new RequestAccounting(this.store, this.usage, ctx.apiKey, (line) => this.logger.warn(line));
    await ctx.accounting.admit();
    return true;
  }
}
