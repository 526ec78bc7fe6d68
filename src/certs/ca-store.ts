/**
 * The mesh CA's state directory: `ca.crt` (PEM certificate, 0644) and `private.key` (PEM
 * private key, 0600), the key names of OSM's `osm-ca-bundle` Secret (reference/osm.md 1.5).
 * Files are created complete or not at all and never overwritten.
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { CertError, reasonOf } from './errors.js';

/** File name of the CA certificate inside the state directory. */
export const CA_CERT_FILE = 'ca.crt';
/** File name of the CA private key inside the state directory. */
export const CA_KEY_FILE = 'private.key';

/** The two PEM texts of a stored CA, with the paths they were read from (for error messages). */
export interface StoredCa {
  certPem: string;
  keyPem: string;
  certFile: string;
  keyFile: string;
}

/** Paths of the CA files in `stateDir`. */
export function caFiles(stateDir: string): { certFile: string; keyFile: string } {
  return { certFile: join(stateDir, CA_CERT_FILE), keyFile: join(stateDir, CA_KEY_FILE) };
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw new CertError('E6001', { file, reason: reasonOf(error) }, { cause: error });
  }
}

/**
 * Reads the CA files. Returns undefined when neither exists; throws E6003 when only one does,
 * since creating the other would pair a new key with an old certificate or the reverse.
 */
export async function readStoredCa(stateDir: string): Promise<StoredCa | undefined> {
  const { certFile, keyFile } = caFiles(stateDir);
  const [certPem, keyPem] = await Promise.all([readIfPresent(certFile), readIfPresent(keyFile)]);
  if (certPem === undefined && keyPem === undefined) return undefined;
  if (certPem === undefined) throw new CertError('E6003', { present: keyFile, missing: certFile });
  if (keyPem === undefined) throw new CertError('E6003', { present: certFile, missing: keyFile });
  return { certPem, keyPem, certFile, keyFile };
}

/**
 * Writes a new CA into `stateDir` (created 0700 if missing): the key first, so a crash in
 * between leaves an incomplete pair that `readStoredCa` reports rather than a certificate
 * without its key. Returns false, writing nothing more, when another process created a file
 * first; the caller then reads theirs.
 */
export async function writeNewCa(stateDir: string, pems: { certPem: string; keyPem: string }): Promise<boolean> {
  const { certFile, keyFile } = caFiles(stateDir);
  try {
    await mkdir(stateDir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new CertError('E6006', { file: stateDir, reason: reasonOf(error) }, { cause: error });
  }
  if (!(await publishFile(keyFile, pems.keyPem, 0o600))) return false;
  return publishFile(certFile, pems.certPem, 0o644);
}

/**
 * Writes `text` to a temporary file in the same directory, syncs it, then hard-links it to
 * `file`: link(2) fails with EEXIST rather than replacing, and readers see the whole file or
 * none. Returns false when `file` already exists.
 */
async function publishFile(file: string, text: string, mode: number): Promise<boolean> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const handle = await open(tmp, 'wx', mode);
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await link(tmp, file);
    } catch (error) {
      if (isErrno(error, 'EEXIST')) return false;
      throw error;
    }
    return true;
  } catch (error) {
    throw new CertError('E6006', { file, reason: reasonOf(error) }, { cause: error });
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}
