// StepExecutor: anything that runs steps of the step contract — a local NativeEngine or a
// group of worker processes driven over gRPC. Drivers above it don't care which.
import type { ModelInfo, StepInput, StepOutput } from './types';

export interface StepExecutor {
  info(): ModelInfo;
  step(input: StepInput): Promise<StepOutput>;
}
