// UsageRecorder: writes each finished request's usage record to the store. A record that cannot
// be written (Redis down) is kept in memory, merged with others of the same key, model and hour,
// and retried with backoff until it is written, so no completed request is lost to an outage;
// shutdown makes a last attempt and logs what could not be saved. Tests: control-plane e2e.
import { Inject, Injectable, Logger, OnModuleDestroy } from '@nestjs/common';
import type { Store } from '../../../../libs/store/src/store';
import { USAGE_FIELDS, hourStart, type UsageDelta } from '../../../../libs/store/src/usage-record';
import { STORE } from '../store/store.tokens';

const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 5000;

@Injectable()
export class UsageRecorder implements OnModuleDestroy {
  private readonly logger = new Logger('Usage');
  private readonly pending = new Map<string, UsageDelta>();
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  private inFlight: Promise<void> = Promise.resolve();

  constructor(@Inject(STORE) private readonly store: Store) {}

  get numPending(): number {
    return this.pending.size;
  }

  record(delta: UsageDelta): void {
    this.store.addUsage(delta).catch(() => {
      if (this.pending.size === 0) this.logger.warn('the store is unavailable: usage records are kept in memory and retried');
      this.keep(delta);
      this.scheduleRetry();
    });
  }

  async onModuleDestroy(): Promise<void> {
    clearTimeout(this.retryTimer);
    await this.inFlight;
    await this.flush();
    if (this.pending.size > 0) this.logger.error(`${this.pending.size} usage records could not be written to the store before shutdown`);
  }

  private keep(delta: UsageDelta): void {
    const id = JSON.stringify([delta.keyId, delta.model, hourStart(delta.atMs)]);
    const held = this.pending.get(id);
    if (!held) {
      this.pending.set(id, { ...delta });
      return;
    }
    for (const field of USAGE_FIELDS) held[field] += delta[field];
  }

  private scheduleRetry(): void {
    if (this.retryTimer !== undefined) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.inFlight = this.flush().then(() => {
        if (this.pending.size === 0) {
          this.retryMs = RETRY_MIN_MS;
          this.logger.log('usage records held during the outage are written');
          return;
        }
        this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
        this.scheduleRetry();
      });
    }, this.retryMs);
    this.retryTimer.unref();
  }

  /** Writes what is pending; a record that fails again stays pending (merged with newer ones). */
  private async flush(): Promise<void> {
    const batch = [...this.pending.values()];
    this.pending.clear();
    for (const delta of batch) {
      try {
        await this.store.addUsage(delta);
      } catch {
        this.keep(delta);
      }
    }
  }
}
