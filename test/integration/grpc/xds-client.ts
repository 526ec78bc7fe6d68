/**
 * Child process of grpc-xds.test.ts: a proxyless gRPC client (grpc-js-xds) configured only by
 * the control plane named in GRPC_XDS_BOOTSTRAP. grpc-js-xds reads its bootstrap once per
 * process, so every client identity is its own process.
 *
 * argv[2] is a ClientSpec as JSON. Output is one JSON object per line on stdout:
 * - `batches`: for each, `{event: 'batch', servers: {id: n}, codes: {code: n}, errors}` once
 *   its calls are done;
 * - `watch`: calls one at a time; `{event: 'ready', outcome}` after the first call returns;
 *   after a `mark` line on stdin, `{event: 'changed', delayMs, ...}` once `consecutive` calls in a
 *   row have the `until` outcome (delayMs: from the mark to the first of them returning; `first`:
 *   that outcome), or
 *   `{event: 'timeout'}` after `deadlineMs`.
 * The process closes its channels and exits when done (the ADS stream would keep it alive).
 */
import { createInterface } from 'node:readline';
import { Client, credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { register, XdsChannelCredentials } from '@grpc/grpc-js-xds';

export interface Batch {
  target: string;
  method: string;
  calls: number;
  /** Calls in flight at once (default 1). */
  concurrency?: number;
}

export interface Watch {
  target: string;
  method: string;
  /** The new behaviour: a status code and/or the server id that answers. */
  until: { code?: number; server?: string };
  consecutive: number;
  deadlineMs: number;
}

export interface ClientSpec {
  batches?: Batch[];
  watch?: Watch;
  /** Per-call deadline (the first calls wait for the configuration). Default 10 s. */
  callDeadlineMs?: number;
}

export interface Outcome {
  code: number;
  server?: string;
  details?: string;
}

export interface BatchResult {
  event: 'batch';
  target: string;
  method: string;
  servers: Record<string, number>;
  codes: Record<string, number>;
  /** The first few distinct error details. */
  errors: string[];
  /** From the batch's start to its end, and to its first call's return. */
  ms: number;
  firstMs: number;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as ClientSpec;
const callDeadlineMs = spec.callDeadlineMs ?? 10_000;
const emit = (event: object) => process.stdout.write(`${JSON.stringify(event)}\n`);

register();
const clients = new Map<string, Client>();
const clientFor = (target: string): Client => {
  let c = clients.get(target);
  if (!c) clients.set(target, (c = new Client(target, new XdsChannelCredentials(credentials.createInsecure()))));
  return c;
};

function call(target: string, method: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const deadline = Date.now() + callDeadlineMs;
    clientFor(target).makeUnaryRequest<Buffer, Buffer>(method, (b) => b, (b) => b, Buffer.from('ping'), new Metadata(), { deadline }, (err: ServiceError | null, reply?: Buffer) => {
      if (err) resolve({ code: err.code, details: err.details });
      else resolve({ code: status.OK, server: reply?.toString() ?? '' });
    });
  });
}

async function runBatch(b: Batch): Promise<BatchResult> {
  const result: BatchResult = { event: 'batch', target: b.target, method: b.method, servers: {}, codes: {}, errors: [], ms: 0, firstMs: 0 };
  const t0 = performance.now();
  let started = 0;
  const worker = async () => {
    while (started < b.calls) {
      started += 1;
      const o = await call(b.target, b.method);
      if (result.firstMs === 0) result.firstMs = Math.round(performance.now() - t0);
      result.codes[o.code] = (result.codes[o.code] ?? 0) + 1;
      if (o.server !== undefined) result.servers[o.server] = (result.servers[o.server] ?? 0) + 1;
      if (o.details !== undefined && result.errors.length < 3 && !result.errors.includes(o.details)) result.errors.push(o.details);
    }
  };
  await Promise.all(Array.from({ length: Math.min(b.calls, b.concurrency ?? 1) }, worker));
  result.ms = Math.round(performance.now() - t0);
  return result;
}

async function runWatch(w: Watch): Promise<boolean> {
  let markAt: number | undefined;
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === 'mark' && markAt === undefined) markAt = performance.now();
  });
  const matches = (o: Outcome) => (w.until.code === undefined || o.code === w.until.code) && (w.until.server === undefined || o.server === w.until.server);
  const before: Record<string, number> = {};
  let afterMark = 0;
  let run = 0;
  let runStartedAt = 0;
  let runFirst: Outcome | undefined;
  let ready = false;
  try {
    for (;;) {
      const o = await call(w.target, w.method);
      const now = performance.now();
      if (!ready) {
        ready = true;
        emit({ event: 'ready', outcome: o });
      }
      if (markAt === undefined) {
        const key = o.server ?? `code ${o.code}`;
        before[key] = (before[key] ?? 0) + 1;
      } else {
        afterMark += 1;
        if (matches(o)) {
          if (run === 0) {
            runStartedAt = now;
            runFirst = o;
          }
          run += 1;
          if (run >= w.consecutive) {
            emit({ event: 'changed', delayMs: Math.round((runStartedAt - markAt) * 10) / 10, callsAfterMark: afterMark, before, first: runFirst });
            return true;
          }
        } else run = 0;
        if (now - markAt > w.deadlineMs) {
          emit({ event: 'timeout', callsAfterMark: afterMark, last: o, before });
          return false;
        }
      }
      // Pace the loop a little: this is a load generator, not a spin on the CPU the control plane needs.
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    lines.close();
  }
}

let ok = true;
for (const b of spec.batches ?? []) emit(await runBatch(b));
if (spec.watch) ok = await runWatch(spec.watch);
for (const c of clients.values()) c.close();
process.exit(ok ? 0 : 1);
