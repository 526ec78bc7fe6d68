/**
 * Child processes of the proxy bench, pinned to a CPU with taskset(1): long-lived servers
 * (haproxy as the app and as proxies) that a ProcessGroup owns and stops together, and
 * short-lived tools (wrk, h2load) run to completion.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect, createServer } from 'node:net';

/** A host and TCP port. */
export interface Address {
  host: string;
  port: number;
}

export function formatAddress(a: Address): string {
  return `${a.host}:${a.port}`;
}

/** How much of a child's output to keep for error messages, in characters. */
const OUTPUT_TAIL_CHARS = 4000;

/** A long-lived child process; `stop` sends SIGTERM and waits for the exit, and is idempotent. */
export interface ServerProcess {
  readonly name: string;
  readonly pid: number;
  /** The last few KB of its stdout and stderr, for error messages. */
  output(): string;
  /** Whether it has exited. */
  hasExited(): boolean;
  stop(): Promise<void>;
}

/** The command line that runs `command` on `cpu`, or unpinned when `cpu` is undefined. */
function pinnedCommand(cpu: number | undefined, command: string, args: readonly string[]): [string, string[]] {
  return cpu === undefined ? [command, [...args]] : ['taskset', ['-c', String(cpu), command, ...args]];
}

/** Owns the servers a bench run starts, so one call (or the process exit hook) stops them all. */
export class ProcessGroup {
  readonly #children = new Set<ChildProcess>();
  readonly #running = new Set<ServerProcess>();

  /** Starts `command` pinned to `cpu`; the pid is the command's own, since taskset execs it. */
  spawn(name: string, cpu: number | undefined, command: string, args: readonly string[]): ServerProcess {
    const [file, argv] = pinnedCommand(cpu, command, args);
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    // A spawn failure also arrives as an 'error' event, which would crash the bench unheard.
    child.on('error', () => undefined);
    if (child.pid === undefined) throw new Error(`${name}: could not start ${command}`);
    const pid = child.pid;
    this.#children.add(child);
    let tail = '';
    const keep = (chunk: Buffer): void => {
      tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    let exited = false;
    const exit = new Promise<void>((resolve) => {
      child.on('exit', () => {
        exited = true;
        this.#children.delete(child);
        this.#running.delete(server);
        resolve();
      });
    });
    const server: ServerProcess = {
      name,
      pid,
      output: () => tail,
      hasExited: () => exited,
      stop: async () => {
        if (!exited) child.kill('SIGTERM');
        await exit;
      },
    };
    this.#running.add(server);
    return server;
  }

  /** Stops every server still running and waits for them to exit. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#running].map((s) => s.stop()));
  }

  /** For the process `exit` hook, which cannot wait: SIGKILL whatever is still running. */
  killAllNow(): void {
    for (const child of this.#children) child.kill('SIGKILL');
  }
}

/** A port on `host` that was free a moment ago (the usual bind-to-0 race is acceptable in a bench). */
export async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error(`freePort: no TCP address on ${host}`);
  return address.port;
}

/** Waits until `address` accepts a TCP connection; fails early if `owner` exits, or after `timeoutMs`. */
export async function waitForListening(address: Address, owner: ServerProcess | undefined, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (owner?.hasExited()) throw new Error(`${owner.name} exited before listening on ${formatAddress(address)}:\n${owner.output()}`);
    if (await canConnect(address)) return;
    if (Date.now() > deadline) {
      throw new Error(`${owner?.name ?? 'server'}: nothing listening on ${formatAddress(address)} after ${timeoutMs} ms${owner ? `:\n${owner.output()}` : ''}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function canConnect(address: Address): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(address.port, address.host);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** What a finished tool printed. */
export interface ToolOutput {
  stdout: string;
  stderr: string;
  exitCode: number | null;
}

/** Runs a tool to completion on `cpu`, without blocking the event loop (proxies in this process may need it). */
export function runTool(cpu: number | undefined, command: string, args: readonly string[]): Promise<ToolOutput> {
  const [file, argv] = pinnedCommand(cpu, command, args);
  return new Promise((resolve, reject) => {
    const child = spawn(file, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.once('error', reject);
    child.once('close', (code) => resolve({ stdout, stderr, exitCode: code }));
  });
}

/**
 * Pins every thread of a running process to `cpu` (`taskset -a -p`): for processes another
 * module started, such as the sidecars of the loopback mesh.
 */
export function pinProcess(pid: number, cpu: number): void {
  const result = spawnSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`taskset: could not pin pid ${pid} to CPU ${cpu}: ${result.stderr.trim()}`);
}

/** Whether `command` is on PATH. */
export function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}
