// WorkerProcess: spawns one local worker (node dist/apps/worker/src/main.js), waits for its
// "listening" line and watches for its exit so the group can report a dead rank at once.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { findRepoRoot } from '../../native/src/addon';

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class WorkerProcess {
  private exitInfo: WorkerExit | undefined;
  private readonly exitListeners: Array<(exit: WorkerExit) => void> = [];

  private constructor(
    readonly rank: number,
    readonly child: ChildProcess,
    readonly port: number,
  ) {}

  static spawn(rank: number, options: { device: string; env?: NodeJS.ProcessEnv; startTimeoutMs?: number }): Promise<WorkerProcess> {
    const main = join(findRepoRoot(), 'dist', 'apps', 'worker', 'src', 'main.js');
    const child = spawn(process.execPath, [main, '--port', '0', '--device', options.device, '--exit-with-parent'], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    return new Promise((resolve, reject) => {
      const stderr: string[] = [];
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`worker rank ${rank} did not start within ${options.startTimeoutMs ?? 30000} ms`));
      }, options.startTimeoutMs ?? 30000);
      child.stderr?.on('data', (d: Buffer) => {
        stderr.push(d.toString());
        process.stderr.write(d);
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`worker rank ${rank} could not start: ${err.message}`));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`worker rank ${rank} exited before listening (code ${code}, signal ${signal}): ${stderr.join('').trim()}`));
      });
      const lines = createInterface({ input: child.stdout! });
      lines.once('line', (line) => {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        try {
          const msg = JSON.parse(line) as { event?: string; port?: number };
          if (msg.event !== 'listening' || typeof msg.port !== 'number') throw new Error(line);
          const worker = new WorkerProcess(rank, child, msg.port);
          child.on('exit', (code, signal) => worker.handleExit({ code, signal }));
          resolve(worker);
        } catch {
          child.kill('SIGKILL');
          reject(new Error(`worker rank ${rank} printed an unexpected first line: ${line}`));
        }
      });
    });
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get exited(): WorkerExit | undefined {
    return this.exitInfo;
  }

  onExit(listener: (exit: WorkerExit) => void): void {
    if (this.exitInfo) listener(this.exitInfo);
    else this.exitListeners.push(listener);
  }

  kill(): void {
    if (!this.exitInfo) this.child.kill('SIGKILL');
  }

  /** Resolves once the process has exited (killing it after graceMs). */
  async stop(graceMs = 2000): Promise<void> {
    if (this.exitInfo) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => this.kill(), graceMs);
      this.onExit(() => {
        clearTimeout(timer);
        resolve();
      });
      this.child.stdin?.end();
    });
  }

  private handleExit(exit: WorkerExit): void {
    this.exitInfo = exit;
    for (const l of this.exitListeners.splice(0)) l(exit);
  }
}
