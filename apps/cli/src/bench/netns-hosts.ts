// Network namespaces as "hosts" for the multi-host tests and benchmark (root + iproute2): a bridge in the root
// namespace and one veth-joined namespace per host, each with its own address on a private
// /24, so the ranks share no loopback, no network namespace and meet only over TCP. Everything
// is named after this process id, made by the test and removed by it (also after a failure).
// Where namespaces cannot be made, NetnsHosts.create returns the reason to skip with.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface NetnsHost {
  name: string;
  ip: string;
}

export interface HostWorker {
  child: ChildProcess;
  port: number;
  address: string;
  stderr(): string;
}

function ip(args: string[]): string {
  return execFileSync('ip', args, { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
}

export class NetnsHosts {
  private readonly workers: HostWorker[] = [];

  private constructor(
    readonly hosts: NetnsHost[],
    readonly bridgeIp: string,
    private readonly tag: string,
    private readonly subnet: string,
  ) {}

  /** `count` hosts, or a string saying why namespaces cannot be made here. */
  static create(count: number): NetnsHosts | string {
    if (process.platform !== 'linux') return 'network namespaces need Linux';
    if (process.getuid?.() !== 0) return 'network namespaces need root (run the tests as root to include them)';
    try {
      ip(['-V']);
    } catch {
      return 'iproute2 (`ip`) is not installed';
    }
    const tag = String(process.pid % 100000);
    // a /24 of 10.0.0.0/8 per test process, away from the usual 10.0.x and 10.96.x ranges
    const subnet = `10.${180 + (process.pid % 60)}.${(process.pid >> 6) % 250}`;
    const hosts = Array.from({ length: count }, (_, i) => ({ name: `tpsnet${tag}h${i}`, ip: `${subnet}.${i + 2}` }));
    const set = new NetnsHosts(hosts, `${subnet}.1`, tag, subnet);
    try {
      set.removeAll();  // leftovers of an earlier run with the same pid
      ip(['link', 'add', set.bridge, 'type', 'bridge']);
      ip(['addr', 'add', `${set.bridgeIp}/24`, 'dev', set.bridge]);
      ip(['link', 'set', set.bridge, 'up']);
      hosts.forEach((_, i) => set.addHost(i));
    } catch (err) {
      set.removeAll();
      return `cannot make network namespaces here: ${(err as Error).message.split('\n')[0]}`;
    }
    return set;
  }

  private get bridge(): string {
    return `tpsbr${this.tag}`;
  }

  private veth(i: number): string {
    return `tpsv${this.tag}h${i}`;
  }

  /** Makes (or makes again, after removeHost) host i: its namespace, veth and address. */
  addHost(i: number): void {
    const { name, ip: address } = this.hosts[i];
    ip(['netns', 'add', name]);
    ip(['link', 'add', this.veth(i), 'type', 'veth', 'peer', 'name', `tpsp${this.tag}h${i}`]);
    ip(['link', 'set', `tpsp${this.tag}h${i}`, 'netns', name]);
    ip(['link', 'set', this.veth(i), 'master', this.bridge]);
    ip(['link', 'set', this.veth(i), 'up']);
    ip(['netns', 'exec', name, 'ip', 'addr', 'add', `${address}/24`, 'dev', `tpsp${this.tag}h${i}`]);
    ip(['netns', 'exec', name, 'ip', 'link', 'set', `tpsp${this.tag}h${i}`, 'up']);
    ip(['netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up']);
  }

  /** The host vanishes: every process in its namespace is SIGKILLed, then the namespace goes. */
  removeHost(i: number): void {
    const { name } = this.hosts[i];
    let pids: string[] = [];
    try {
      pids = ip(['netns', 'pids', name]).split('\n').filter((p) => p.trim() !== '');
    } catch {
      return;  // already gone
    }
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // exited meanwhile
      }
    }
    try {
      ip(['link', 'del', this.veth(i)]);
    } catch {
      // removed with the namespace
    }
    ip(['netns', 'del', name]);
  }

  /** Starts `tpserve worker` inside host i on a fixed port; resolves once it listens. */
  startWorker(i: number, bin: string, args: string[], o: { port: number; env?: NodeJS.ProcessEnv; timeoutMs?: number }): Promise<HostWorker> {
    const { name, ip: address } = this.hosts[i];
    const timeoutMs = o.timeoutMs ?? 60_000;
    const child = spawn('ip', ['netns', 'exec', name, process.execPath, bin, 'worker', '--host', address, '--port', String(o.port), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...o.env },
    });
    const errText: string[] = [];
    child.stderr!.on('data', (d: Buffer) => errText.push(d.toString()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`the worker in ${name} did not listen within ${timeoutMs} ms: ${errText.join('')}`));
      }, timeoutMs);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`the worker in ${name} exited with code ${code}: ${errText.join('')}`));
      });
      createInterface({ input: child.stdout! }).once('line', (line) => {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        const msg = JSON.parse(line) as { port: number };
        const worker = { child, port: msg.port, address: `${address}:${msg.port}`, stderr: () => errText.join('') };
        this.workers.push(worker);
        resolve(worker);
      });
    });
  }

  /** Ends every worker started here, then removes the hosts and the bridge. */
  removeAll(): void {
    for (const w of this.workers.splice(0)) if (w.child.exitCode === null) w.child.kill('SIGKILL');
    this.hosts.forEach((_, i) => this.removeHost(i));
    try {
      ip(['link', 'del', this.bridge]);
    } catch {
      // not made yet
    }
  }

  describe(): string {
    return `${this.hosts.length} namespace hosts on ${this.subnet}.0/24`;
  }
}
