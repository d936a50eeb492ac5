// Conversions between the engine's StepInput/StepOutput and the proto messages (as
// @grpc/proto-loader represents them with PROTO_OPTIONS).
import { tokenMaskFromProto, tokenMaskToProto, type ProtoTokenMask } from './token-mask-codec';
import type {
  LogitsMode,
  ModelInfo,
  SamplingParams,
  StepInput,
  StepOutput,
} from '../../native/src/types';

const LOGITS_TO_PROTO: Record<LogitsMode, string> = { none: 'LOGITS_NONE', last: 'LOGITS_LAST', all: 'LOGITS_ALL' };
const LOGITS_FROM_PROTO: Record<string, LogitsMode> = { LOGITS_NONE: 'none', LOGITS_LAST: 'last', LOGITS_ALL: 'all' };

export interface ProtoStepRequest {
  stepId?: number;
  newSequences?: Array<{ seqId?: number; params?: SamplingParams; numPromptTokens?: number; promptTokens?: number[] }>;
  scheduled?: Array<{
    seqId?: number;
    tokens?: number[];
    startPos?: number;
    newBlockIds?: number[];
    sample?: boolean;
    logits?: string;
    /** 1 + the index of its mask in tokenMasks (0 or absent: any id). */
    tokenMaskRef?: number;
  }>;
  finished?: number[];
  /** The step's distinct masks, each once. */
  tokenMasks?: ProtoTokenMask[];
  shareSamples?: boolean;
}

export interface ProtoStepResponse {
  stepId?: number;
  rank?: number;
  samples?: Array<{ seqId?: number; token?: number; logprob?: number; topLogprobs?: Array<{ token?: number; logprob?: number }> }>;
  logits?: Array<{ seqId?: number; numRows?: number; data?: Buffer | Uint8Array }>;
  timings?: { forwardUs?: number; collectiveUs?: number; samplingUs?: number; handlerUs?: number; waitUs?: number };
  /** StepStream only: the engine's error for this step. */
  error?: string;
  /** StepStream only, with error: the one sequence the step was rejected for. */
  sequenceFault?: { seqId?: number };
}

/** Masks are sent once per step: sequences holding the same mask (the same array) share it. */
export function stepInputToProto(input: StepInput): ProtoStepRequest {
  const refs = new Map<Uint32Array, number>();
  const tokenMasks: ProtoTokenMask[] = [];
  const refOf = (bits: Uint32Array): number => {
    let ref = refs.get(bits);
    if (ref === undefined) refs.set(bits, (ref = tokenMasks.push(tokenMaskToProto(bits))));
    return ref;
  };
  return {
    stepId: input.stepId,
    newSequences: input.newSequences.map((s) => ({ ...s, params: s.params })),
    scheduled: input.scheduled.map(({ tokenBitmask, ...s }) => ({
      ...s,
      logits: LOGITS_TO_PROTO[s.logits ?? 'none'],
      ...(tokenBitmask ? { tokenMaskRef: refOf(tokenBitmask) } : {}),
    })),
    finished: input.finished,
    ...(tokenMasks.length > 0 ? { tokenMasks } : {}),
    shareSamples: input.shareSamples ?? false,
  };
}

export function stepInputFromProto(req: ProtoStepRequest): StepInput {
  const masks = (req.tokenMasks ?? []).map(tokenMaskFromProto); // decoded once, shared by reference
  const maskOf = (ref: number): Uint32Array => {
    const bits = masks[ref - 1];
    if (bits === undefined) throw new Error(`step ${req.stepId ?? 0}: token mask ref ${ref} of ${masks.length} masks`);
    return bits;
  };
  return {
    stepId: req.stepId ?? 0,
    newSequences: (req.newSequences ?? []).map((s) => ({
      seqId: s.seqId ?? 0,
      params: s.params ?? {},
      numPromptTokens: s.numPromptTokens ?? 0,
      promptTokens: s.promptTokens ?? [],
    })),
    scheduled: (req.scheduled ?? []).map((s) => ({
      seqId: s.seqId ?? 0,
      tokens: s.tokens ?? [],
      startPos: s.startPos ?? 0,
      newBlockIds: s.newBlockIds ?? [],
      sample: s.sample ?? false,
      logits: LOGITS_FROM_PROTO[s.logits ?? 'LOGITS_NONE'] ?? 'none',
      ...(s.tokenMaskRef ? { tokenBitmask: maskOf(s.tokenMaskRef) } : {}),
    })),
    finished: req.finished ?? [],
    shareSamples: req.shareSamples ?? false,
  };
}

/** `waitUs`: how long the rank sat idle before this step (the worker measures it, not the engine). */
export function stepOutputToProto(out: StepOutput, rank: number, handlerUs: number, waitUs = 0): ProtoStepResponse {
  return {
    stepId: out.stepId,
    rank,
    samples: out.samples.map((s) => ({
      seqId: s.seqId,
      token: s.token,
      logprob: s.logprob,
      topLogprobs: s.topLogprobs.map(([token, logprob]) => ({ token, logprob })),
    })),
    logits: out.logits.map((l) => ({
      seqId: l.seqId,
      numRows: l.numRows,
      data: Buffer.from(l.data.buffer, l.data.byteOffset, l.data.byteLength),
    })),
    timings: { ...out.timings, handlerUs, waitUs },
  };
}

export function stepOutputFromProto(res: ProtoStepResponse): StepOutput & { rank: number; handlerUs: number } {
  return {
    stepId: res.stepId ?? 0,
    rank: res.rank ?? 0,
    samples: (res.samples ?? []).map((s) => ({
      seqId: s.seqId ?? 0,
      token: s.token ?? 0,
      logprob: s.logprob ?? 0,
      topLogprobs: (s.topLogprobs ?? []).map((t): [number, number] => [t.token ?? 0, t.logprob ?? 0]),
    })),
    logits: (res.logits ?? []).map((l) => {
      const bytes = l.data ?? new Uint8Array();
      const copy = new Uint8Array(bytes.byteLength);
      copy.set(bytes);  // realign: the wire buffer may start at an odd offset
      return { seqId: l.seqId ?? 0, numRows: l.numRows ?? 0, data: new Float32Array(copy.buffer) };
    }),
    timings: {
      forwardUs: res.timings?.forwardUs ?? 0,
      collectiveUs: res.timings?.collectiveUs ?? 0,
      samplingUs: res.timings?.samplingUs ?? 0,
      waitUs: res.timings?.waitUs ?? 0,
    },
    handlerUs: res.timings?.handlerUs ?? 0,
  };
}

export function modelInfoToProto(info: ModelInfo): Record<string, unknown> {
  return { ...info, backend: info.device };
}

export function modelInfoFromProto(m: Record<string, unknown>): ModelInfo {
  const num = (k: string): number => (typeof m[k] === 'number' ? (m[k] as number) : 0);
  return {
    architecture: String(m.architecture ?? ''),
    vocabSize: num('vocabSize'),
    hiddenSize: num('hiddenSize'),
    numLayers: num('numLayers'),
    numHeads: num('numHeads'),
    numKvHeads: num('numKvHeads'),
    headDim: num('headDim'),
    maxPositionEmbeddings: num('maxPositionEmbeddings'),
    eosTokenIds: Array.isArray(m.eosTokenIds) ? (m.eosTokenIds as number[]) : [],
    weightBytes: num('weightBytes'),
    decodeBytesPerToken: num('decodeBytesPerToken'),
    numKvBlocks: num('numKvBlocks'),
    kvBlockSize: num('kvBlockSize'),
    device: String(m.backend ?? ''),
    tpRank: num('tpRank'),
    tpSize: num('tpSize'),
  };
}
