/**
 * The directory source: loads a folder of manifests into the store and follows its changes.
 *
 * A file that becomes unreadable or invalid YAML keeps all its objects at their last good
 * version; an object whose document becomes invalid keeps its last good version; both are
 * reported. Objects removed from files (or whose file is removed) are deleted.
 */
import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { refKey } from '../api/meta.js';
import type { LoadedObject } from '../api/parse.js';
import { problem, type Problem } from '../api/problem.js';
import { refOfObject, type StoreWrite } from '../store/store.js';
import { expandPaths, readManifestFile, withoutDuplicates, type FileContents } from './files.js';
import type { Source, SourceSink } from './source.js';

interface FileState {
  mtimeMs: number;
  size: number;
  contents: FileContents;
}

export interface DirectorySourceOptions {
  /** Changes within this window become one store batch. */
  debounceMs?: number;
  /** A slow rescan that catches changes a file watcher can miss (some editors, network mounts). */
  pollIntervalMs?: number;
}

export class DirectorySource implements Source {
  private files = new Map<string, FileState>();
  private written = new Map<string, LoadedObject>();
  private watcher?: FSWatcher;
  private timer?: NodeJS.Timeout;
  private poller?: NodeJS.Timeout;
  private syncing: Promise<void> = Promise.resolve();
  private sink?: SourceSink;

  constructor(
    readonly dir: string,
    private readonly options: DirectorySourceOptions = {},
  ) {}

  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    await this.resync();
    this.watcher = watch(this.dir, { recursive: true }, () => this.schedule());
    this.watcher.on('error', () => this.schedule());
    const poll = this.options.pollIntervalMs ?? 5000;
    if (poll > 0) this.poller = setInterval(() => this.schedule(), poll);
  }

  async stop(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    clearTimeout(this.timer);
    clearInterval(this.poller);
    await this.syncing;
  }

  /**
   * Rescans now; resolves when the store has the result, rejects if this scan failed. A failed
   * scan changes nothing and the next one starts from the last delivered state.
   */
  resync(): Promise<void> {
    const run = this.syncing.then(() => this.sync());
    this.syncing = run.catch(() => undefined);
    return run;
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.resync().catch((err: unknown) => {
        const reason = err instanceof Error ? err.message : String(err);
        this.sink?.problems([problem('E1001', { reason }, { source: { file: this.dir } })]);
      });
    }, this.options.debounceMs ?? 100);
  }

  private async sync(): Promise<void> {
    const sink = this.sink;
    if (!sink) return;
    const expanded = await expandPaths([this.dir]);
    const next = new Map<string, FileState>();
    for (const file of expanded.files) {
      const before = this.files.get(file);
      const info = await stat(file).catch(() => undefined);
      if (before && info && before.mtimeMs === info.mtimeMs && before.size === info.size) {
        next.set(file, before);
        continue;
      }
      const read = await readManifestFile(file);
      next.set(file, { mtimeMs: info?.mtimeMs ?? 0, size: info?.size ?? 0, contents: keepLastGood(read, before?.contents) });
    }
    const merged = withoutDuplicates([...next.values()].map((f) => f.contents));
    const desired = new Map(merged.objects.map((o) => [refKey(refOfObject(o.object)), o]));
    const writes: StoreWrite[] = [];
    for (const [key, o] of desired) {
      if (this.written.get(key) !== o) writes.push({ type: 'put', object: o.object, apiVersion: o.apiVersion, source: o.source });
    }
    for (const [key, o] of this.written) if (!desired.has(key)) writes.push({ type: 'delete', ref: refOfObject(o.object) });
    if (writes.length > 0) sink.write(writes);
    // Only what the sink took counts as delivered.
    this.files = next;
    this.written = desired;
    const problems: Problem[] = [...expanded.problems, ...[...next.values()].flatMap((f) => f.contents.problems), ...merged.problems];
    sink.problems(problems);
  }
}

/**
 * Merges a fresh read with the file's last good contents: everything is kept when the file is
 * unreadable; otherwise an object whose document failed keeps its previous version.
 */
function keepLastGood(read: FileContents, before: FileContents | undefined): FileContents {
  if (!before) return read;
  if (read.unreadable) return { ...read, objects: before.objects };
  const failed = new Set(read.problems.filter((p) => p.severity === 'error' && p.object).map((p) => refKey(p.object as NonNullable<Problem['object']>)));
  if (failed.size === 0) return read;
  const kept = before.objects.filter((o) => failed.has(refKey(refOfObject(o.object))));
  return { ...read, objects: [...read.objects, ...kept] };
}
