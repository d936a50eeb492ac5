// SupervisedWorkerGroup: the coordinator's long-lived executor. It holds one WorkerGroup at a
// time and reports each fault of it (a rank exits, hangs past the step deadline, fails a step)
// to its listeners; restart() then fences the failed group (every rank ended by pid and
// reaped), spawns a new one, rendezvous again (a new comm id from the new rank 0), loads the
// model again (the checkpoint is mmapped: a reload reads from the page cache) and sizes the KV
// cache again. Whether to restart (the budget) is the coordinator's decision, not this class's.
import type { ModelInfo, StepInput, StepOutput } from '../../native/src/types';
import { WorkerGroup, type WorkerGroupError, type WorkerGroupOptions } from './worker-group';

export class SupervisedWorkerGroup {
  private readonly failureListeners: Array<(err: WorkerGroupError) => void> = [];
  private isClosed = false;
  /** Groups started so far (1 after start). */
  numGenerations = 1;

  private constructor(
    private group: WorkerGroup,
    private readonly options: WorkerGroupOptions,
  ) {
    this.watch(group);
  }

  static async start(options: WorkerGroupOptions): Promise<SupervisedWorkerGroup> {
    return new SupervisedWorkerGroup(await WorkerGroup.start(options), options);
  }

  get size(): number {
    return this.group.size;
  }

  /** Process ids of the current group's ranks. */
  get pids(): number[] {
    return this.group.pids;
  }

  info(): ModelInfo {
    return this.group.info();
  }

  step(input: StepInput): Promise<StepOutput> {
    return this.group.step(input);
  }

  /** Called on every fault of every group (once per group). */
  onFailure(listener: (err: WorkerGroupError) => void): void {
    this.failureListeners.push(listener);
  }

  /**
   * Replaces the current group (failed or not) with a new one and returns its model info.
   * Rejects when the new group cannot start; the old one is fenced either way, so calling
   * restart() again is the retry.
   */
  async restart(): Promise<ModelInfo> {
    if (this.isClosed) throw new Error('the worker group is closed');
    await this.group.fence();
    const group = await WorkerGroup.start(this.options);
    if (this.isClosed) {
      await group.close();
      throw new Error('the worker group was closed during a restart');
    }
    this.group = group;
    this.numGenerations++;
    this.watch(group);
    return group.info();
  }

  async close(): Promise<void> {
    this.isClosed = true;
    await this.group.close();
  }

  private watch(group: WorkerGroup): void {
    group.onFailure((err) => {
      if (group !== this.group || this.isClosed) return;
      for (const l of this.failureListeners) l(err);
    });
  }
}
