// WorkerRpcError: a failed RPC to one rank (unary call or step), with the rank, the method and
// the gRPC status code, so the group can tell a deadline from a dead rank from a failed step
// (and, for a step rejected because of one sequence, that sequence's id).
import type * as grpc from '@grpc/grpc-js';

export class WorkerRpcError extends Error {
  constructor(
    readonly rank: number,
    readonly method: string,
    readonly code: grpc.status | undefined,
    message: string,
    /** A step rejected for one sequence (a per-sequence validation error): its id. */
    readonly seqId?: number,
  ) {
    super(message);
  }
}
