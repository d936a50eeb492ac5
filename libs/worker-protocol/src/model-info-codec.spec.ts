// ModelInfo through the real wire encoding (proto/worker.proto's LoadModelResponse): every field
// comes back as it went, and no field is filled from another one.
import { describe, expect, it } from 'vitest';
import type { ModelInfo } from '../../native/src/types';
import { loadWorkerService } from './proto-loader';
import { modelInfoFromProto, modelInfoToProto } from './step-codec';

const info: ModelInfo = {
  architecture: 'SeedOssForCausalLM', vocabSize: 155136, hiddenSize: 5120, numLayers: 64, numHeads: 80, numKvHeads: 8,
  headDim: 128, maxPositionEmbeddings: 524288, eosTokenIds: [2], weightBytes: 72_302_209_024, decodeBytesPerToken: 70_713_380_864, numKvBlocks: 1234,
  kvBlockSize: 16, device: 'cpu (avx2, 2 threads)', tpRank: 1, tpSize: 2,
};

describe('ModelInfo codec', () => {
  it('round-trips every field over the LoadModel response encoding', () => {
    const method = loadWorkerService().service.LoadModel;
    const wire = method.responseSerialize({ model: modelInfoToProto(info), loadSeconds: 1.5 });
    const decoded = method.responseDeserialize(wire) as { model: Record<string, unknown> };
    expect(modelInfoFromProto(decoded.model)).toEqual(info);
  });
});
