/**
 * The directory source against a real temporary folder. Every file change is followed by an
 * explicit `resync()` (which resolves once the sink has the result); the one test of the file
 * watcher waits for the sink's event with a deadline. No sleeps.
 */
import * as assert from 'node:assert/strict';
import { mkdir, mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import type { Problem } from '../api/problem.js';
import { refKey, type ObjectRef } from '../api/meta.js';
import { refOfObject, Store, type StoreWrite } from '../store/store.js';
import { DirectorySource, type DirectorySourceOptions } from './directory.js';
import type { SourceSink } from './source.js';

/**
 * Records what the source sends and applies the writes to a real store. Batches are compared
 * by their effect on the store: a source may re-put an unchanged object (the store ignores it),
 * but what changes, and every delete, must be right.
 */
class RecordingSink implements SourceSink {
  readonly store = new Store();
  private batches: string[][] = [];
  private waiters: Array<{ matches: (changes: readonly string[]) => boolean; resolve: () => void }> = [];
  current: readonly Problem[] = [];
  /** Makes the next write throw, as a failing store subscriber would. */
  failNextWrite = false;

  constructor() {
    this.store.subscribe((change) => {
      const described = change.changes.map((c) => `${c.after ? 'put' : 'delete'} ${describeRef(c.ref)}`).sort();
      this.batches.push(described);
      this.waiters = this.waiters.filter((w) => {
        if (!w.matches(described)) return true;
        w.resolve();
        return false;
      });
    });
  }

  write(writes: readonly StoreWrite[]): void {
    if (this.failNextWrite) {
      this.failNextWrite = false;
      throw new Error('sink failed');
    }
    this.store.apply(writes);
  }

  problems(problems: readonly Problem[]): void {
    this.current = problems;
  }

  /** The store changes since the last call, one sorted list of `put|delete Kind ns/name` per batch. */
  takeBatches(): string[][] {
    return this.batches.splice(0);
  }

  /** Resolves when a batch whose changes satisfy `matches` arrives; rejects after `deadlineMs`. */
  waitForBatch(matches: (changes: readonly string[]) => boolean, deadlineMs: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching store change within ${deadlineMs} ms`)), deadlineMs);
      this.waiters.push({
        matches,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  /** The current problems as `code file:line Kind ns/name field`, for comparison. */
  problemSummaries(dir: string): string[] {
    return this.current.map((p) => {
      const at = p.source ? `${p.source.file.slice(dir.length + 1)}${p.source.line !== undefined ? `:${p.source.line}` : ''}` : '-';
      const object = p.object ? ` ${describeRef(p.object)}` : '';
      return `${p.code} ${at}${object}${p.field ? ` ${p.field}` : ''}`;
    });
  }
}

function describeRef(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace ?? ''}/${ref.name}`;
}

const serviceAccount = (ns: string, name: string): string => `apiVersion: v1
kind: ServiceAccount
metadata:
  name: ${name}
  namespace: ${ns}
`;

const service = (ns: string, name: string, port: number): string => `apiVersion: v1
kind: Service
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  selector:
    app: ${name}
  ports:
  - name: http
    port: ${port}
`;

const split = (ns: string, name: string, weights: [number, number]): string => `apiVersion: split.smi-spec.io/v1alpha2
kind: TrafficSplit
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  service: api
  backends:
  - service: api-v1
    weight: ${weights[0]}
  - service: api-v2
    weight: ${weights[1]}
`;

const docs = (...texts: string[]): string => texts.join('---\n');

/** A temporary folder, a source on it started with a recording sink; all undone after the test. */
async function startSource(
  t: TestContext,
  files: Record<string, string>,
  options: DirectorySourceOptions = {},
): Promise<{ dir: string; source: DirectorySource; sink: RecordingSink; write: (path: string, text: string) => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'osm-ts-directory-'));
  let mtime = 1_700_000_000;
  let temp = 0;
  // Writes a whole file at once (rename is atomic, and dot files are skipped), with a fresh
  // mtime each time so that no edit can look unchanged to the source's mtime+size check.
  const write = async (path: string, text: string): Promise<void> => {
    const full = join(dir, path);
    await mkdir(dirname(full), { recursive: true });
    const staging = join(dir, `.staging-${temp++}`);
    await writeFile(staging, text);
    mtime += 10;
    await utimes(staging, mtime, mtime);
    await rename(staging, full);
  };
  for (const [path, text] of Object.entries(files)) await write(path, text);
  // A long debounce keeps the watcher's own rescans out of the way: the tests call resync().
  const source = new DirectorySource(dir, { debounceMs: 60_000, pollIntervalMs: 0, ...options });
  const sink = new RecordingSink();
  t.after(async () => {
    try {
      await source.stop();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  await source.start(sink);
  return { dir, source, sink, write };
}

function storedKeys(sink: RecordingSink, kinds: string[]): string[] {
  const snapshot = sink.store.snapshot();
  return kinds.flatMap((k) => snapshot.list(k).map((o) => refKey(refOfObject(o))));
}

test('start loads every manifest under the folder, subfolders included, in one batch', async (t) => {
  const { sink } = await startSource(t, {
    'a.yaml': docs(serviceAccount('shop', 'a'), service('shop', 'a', 80)),
    'sub/b.yml': serviceAccount('shop', 'b'),
    'sub/deeper/c.json': JSON.stringify({ apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'c', namespace: 'shop' } }),
    'sub/notes.txt': 'not a manifest',
    'sub/.hidden.yaml': serviceAccount('shop', 'hidden'),
  });
  assert.deepEqual(sink.takeBatches(), [['put Service shop/a', 'put ServiceAccount shop/a', 'put ServiceAccount shop/b', 'put ServiceAccount shop/c']]);
  assert.deepEqual(sink.current, []);
  assert.deepEqual(storedKeys(sink, ['ServiceAccount']), ['ServiceAccount/shop/a', 'ServiceAccount/shop/b', 'ServiceAccount/shop/c']);
});

test('files added, edited, renamed and removed become puts and deletes', async (t) => {
  const { source, sink, write, dir } = await startSource(t, { 'a.yaml': service('shop', 'a', 80) });
  sink.takeBatches();

  const steps: Array<{ name: string; change: () => Promise<void>; want: string[][]; port?: number | undefined }> = [
    {
      name: 'add a file in a new subfolder',
      change: () => write('sub/b.yaml', docs(serviceAccount('shop', 'b'), service('shop', 'b', 90))),
      want: [['put Service shop/b', 'put ServiceAccount shop/b']],
    },
    { name: 'edit a field', change: () => write('a.yaml', service('shop', 'a', 8080)), want: [['put Service shop/a']], port: 8080 },
    { name: 'rewrite a file unchanged', change: () => write('a.yaml', service('shop', 'a', 8080)), want: [], port: 8080 },
    {
      name: 'remove one document of two',
      change: () => write('sub/b.yaml', serviceAccount('shop', 'b')),
      want: [['delete Service shop/b']],
    },
    {
      name: 'add a document to a file',
      change: () => write('a.yaml', docs(service('shop', 'a', 8080), serviceAccount('shop', 'a'))),
      want: [['put ServiceAccount shop/a']],
    },
    // A renamed file's objects move with it: never deleted, so the store sees no change.
    { name: 'rename a file', change: () => rename(join(dir, 'a.yaml'), join(dir, 'c.yaml')), want: [], port: 8080 },
    { name: 'remove a file', change: () => rm(join(dir, 'sub/b.yaml')), want: [['delete ServiceAccount shop/b']] },
    {
      name: 'remove the last file',
      change: () => rm(join(dir, 'c.yaml')),
      want: [['delete Service shop/a', 'delete ServiceAccount shop/a']],
      port: undefined,
    },
  ];
  for (const step of steps) {
    await step.change();
    await source.resync();
    assert.deepEqual(sink.takeBatches(), step.want, step.name);
    assert.deepEqual(sink.current, [], `${step.name}: no problems`);
    if ('port' in step) {
      const svc = sink.store.snapshot().get<{ kind: string; metadata: { name: string }; spec?: { ports?: Array<{ port: number }> } }>('Service', 'shop', 'a');
      assert.equal(svc?.spec?.ports?.[0]?.port, step.port, `${step.name}: Service shop/a port`);
    }
  }
});

test('a file edited into invalid YAML keeps all its objects and reports E1002 at the file and line', async (t) => {
  const { dir, source, sink, write } = await startSource(t, {
    'a.yaml': docs(serviceAccount('shop', 'a'), service('shop', 'a', 80)),
    'b.yaml': serviceAccount('shop', 'b'),
  });
  const good = sink.store.snapshot();
  sink.takeBatches();

  // Line 5 repeats the `name` key: the first document stops being YAML, so the whole file is
  // untrusted, even the Service whose document is still well formed (and now says port 81).
  const broken = docs(`apiVersion: v1
kind: ServiceAccount
metadata:
  name: a
  name: again
`, service('shop', 'a', 81));
  await write('a.yaml', broken);
  await write('b.yaml', docs(serviceAccount('shop', 'b'), serviceAccount('shop', 'b2')));
  await source.resync();

  assert.deepEqual(sink.takeBatches(), [['put ServiceAccount shop/b2']], 'no delete, no update from the broken file');
  assert.deepEqual(sink.problemSummaries(dir), ['E1002 a.yaml:5']);
  assert.equal(sink.current[0]?.source?.file, join(dir, 'a.yaml'));
  assert.equal(sink.store.snapshot().stored({ kind: 'Service', namespace: 'shop', name: 'a' }), good.stored({ kind: 'Service', namespace: 'shop', name: 'a' }));

  // Still broken after another edit: still kept.
  await write('a.yaml', `${broken}# edited\n`);
  await source.resync();
  assert.deepEqual(sink.takeBatches(), []);
  assert.deepEqual(sink.problemSummaries(dir), ['E1002 a.yaml:5']);

  // Fixed: the file's current contents win and the problem goes away.
  await write('a.yaml', service('shop', 'a', 81));
  await source.resync();
  assert.deepEqual(sink.takeBatches(), [['delete ServiceAccount shop/a', 'put Service shop/a']]);
  assert.deepEqual(sink.current, []);
});

test('a document that becomes invalid keeps its last good version while the rest of the file updates', async (t) => {
  const { dir, source, sink, write } = await startSource(t, {
    'mesh.yaml': docs(split('shop', 'split', [50, 50]), service('shop', 'api', 80), serviceAccount('shop', 'api')),
  });
  sink.takeBatches();
  const goodSplit = sink.store.snapshot().stored({ kind: 'TrafficSplit', namespace: 'shop', name: 'split' });
  assert.ok(goodSplit);

  // The split's first weight becomes negative (line 10 of the file); the Service changes port.
  await write('mesh.yaml', docs(split('shop', 'split', [-1, 100]), service('shop', 'api', 81), serviceAccount('shop', 'api')));
  await source.resync();

  assert.deepEqual(sink.takeBatches(), [['put Service shop/api']]);
  assert.deepEqual(sink.problemSummaries(dir), ['E3009 mesh.yaml:10 TrafficSplit shop/split spec.backends[0].weight']);
  assert.equal(sink.store.snapshot().stored({ kind: 'TrafficSplit', namespace: 'shop', name: 'split' }), goodSplit, 'the split keeps its last good version');

  // Fixed with new weights: the split updates and the problem clears.
  await write('mesh.yaml', docs(split('shop', 'split', [10, 90]), service('shop', 'api', 81), serviceAccount('shop', 'api')));
  await source.resync();
  assert.deepEqual(sink.takeBatches(), [['put TrafficSplit shop/split']]);
  assert.deepEqual(sink.current, []);
});

test('an object defined in two files: the first by path order wins and E1008 names the second', async (t) => {
  const { dir, source, sink } = await startSource(t, {
    'b.yaml': service('shop', 'api', 82),
    'a.yaml': docs(serviceAccount('shop', 'api'), service('shop', 'api', 81)),
    'a/nested.yaml': service('shop', 'api', 83),
  });
  const port = (): number | undefined =>
    sink.store.snapshot().get<{ kind: string; metadata: { name: string }; spec: { ports: Array<{ port: number }> } }>('Service', 'shop', 'api')?.spec.ports[0]?.port;
  // Path order: a/nested.yaml, a.yaml, b.yaml ("a" sorts before "a.yaml" in the folder listing).
  assert.equal(port(), 83);
  assert.deepEqual(sink.problemSummaries(dir), ['E1008 a.yaml:7 Service shop/api', 'E1008 b.yaml:1 Service shop/api']);
  assert.ok(sink.current.every((p) => p.message.includes(join(dir, 'a/nested.yaml'))), 'each names the first definition');
  sink.takeBatches();

  // Remove the winner: the next definition takes over.
  await rm(join(dir, 'a'), { recursive: true });
  await source.resync();
  assert.deepEqual(sink.takeBatches(), [['put Service shop/api']]);
  assert.equal(port(), 81);
  assert.deepEqual(sink.problemSummaries(dir), ['E1008 b.yaml:1 Service shop/api']);
});

test('the file watcher picks up a change without resync()', async (t) => {
  const { sink, write } = await startSource(t, { 'a.yaml': serviceAccount('shop', 'a') }, { debounceMs: 10 });
  sink.takeBatches();
  const arrived = sink.waitForBatch((changes) => changes.includes('put ServiceAccount shop/b'), 10_000);
  await write('b.yaml', serviceAccount('shop', 'b'));
  await arrived;
  assert.deepEqual(storedKeys(sink, ['ServiceAccount']), ['ServiceAccount/shop/a', 'ServiceAccount/shop/b']);
});

// One failed sync (here the sink throws; a folder removed mid-scan makes readdir throw the same
// way) must not wedge the source: later rescans run again, and stop() still stops.
test('a failed sync does not stop later resyncs from working', async (t) => {
  const { source, sink, write } = await startSource(t, { 'a.yaml': serviceAccount('shop', 'a') });
  sink.takeBatches();
  sink.failNextWrite = true;
  await write('b.yaml', serviceAccount('shop', 'b'));
  await assert.rejects(source.resync(), /sink failed/);

  await write('c.yaml', serviceAccount('shop', 'c'));
  await source.resync();
  assert.deepEqual(storedKeys(sink, ['ServiceAccount']), ['ServiceAccount/shop/a', 'ServiceAccount/shop/b', 'ServiceAccount/shop/c']);
});

test('stop() is idempotent, also before start()', async (t) => {
  const { source } = await startSource(t, { 'a.yaml': serviceAccount('shop', 'a') });
  await source.stop();
  await source.stop();
  const never = new DirectorySource(tmpdir(), { pollIntervalMs: 0 });
  await never.stop();
  await never.stop();
});
