// ListenerFaults: a response handler (detokenizer, parser, SSE writer) or a forcer threw. That
// request alone ends with a 500 naming the error, logged with its id; the others go on.
import type { Logger } from '@nestjs/common';
import type { SamplingParams } from '../../../../libs/native/src/types';
import { OpenAiError } from '../../../../libs/openai-protocol/src/openai-error';
import type { Scheduler } from '../../../../libs/scheduler/src/scheduler';
import type { SequenceRequest } from './engine-request';
import { finishQuietly, type LiveSequences } from './live-sequences';

export class ListenerFaults {
  constructor(
    private readonly scheduler: Scheduler<SamplingParams>,
    private readonly live: () => LiveSequences,
    private readonly logger: Logger,
    /** Wakes the loop, which frees the aborted request. */
    private readonly kick: () => void,
  ) {}

  /** Ends `requestId` with a 500; `request` when it already left the live set. */
  end(requestId: number, err: unknown, request?: SequenceRequest): void {
    this.log(requestId, err);
    this.scheduler.abortRequest(requestId);
    const error = new OpenAiError(500, `Internal error while producing this response: ${err instanceof Error ? err.message : String(err)}`, null, 'internal_error');
    const seq = request ?? this.live().delete(requestId);
    if (seq !== undefined) finishQuietly(seq, { reason: 'error', error }, (again) => this.log(requestId, again));
    this.kick();
  }

  log(requestId: number, err: unknown): void {
    this.logger.error(`request ${requestId}: its response handler threw, ending it alone: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  }
}
