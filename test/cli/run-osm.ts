/**
 * Runs the compiled `osm` executable as a user would (a separate Node process), and writes
 * fixture folders for it. Used only by the CLI tests, which run from dist/test/cli/.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled `osm` executable, found from this file's compiled location. */
export const osmBin = fileURLToPath(new URL('../../src/cli/bin.js', import.meta.url));

export interface OsmRun {
  /** Exit status; null if the process was killed. */
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `osm ARGS...` with no standard input; gives up after `timeoutMs`. */
export function runOsm(args: readonly string[], timeoutMs = 30_000): Promise<OsmRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [osmBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** The non-empty lines of `text`. */
export function linesOf(text: string): string[] {
  return text.split('\n').filter((l) => l !== '');
}

/** Writes `files` (relative path -> text) into a new temporary folder; returns it and its remover. */
export async function writeFixtures(files: Record<string, string>): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'osm-ts-cli-'));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}
