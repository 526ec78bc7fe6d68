/**
 * The bootstrap file `osm proxy --bootstrap FILE` starts from (written by `osm proxy bootstrap`,
 * shape from `src/xds/bootstrap.ts`): read, checked field by field, and its PEM files loaded.
 */
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';

export interface SidecarBootstrap {
  readonly node: { readonly id: string; readonly cluster: string; readonly metadata: Readonly<Record<string, string>> };
  readonly ads: { readonly address: string; readonly serverName: string; readonly certificateChainPem: Buffer; readonly privateKeyPem: Buffer; readonly caPem: Buffer };
  readonly admin: { readonly address: string; readonly port: number };
}

export class BootstrapError extends Error {}

function field(obj: unknown, path: string): unknown {
  let v: unknown = obj;
  for (const key of path.split('.')) v = typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
  return v;
}

/** Reads and checks a bootstrap file; relative certificate paths are relative to the file. */
export async function readBootstrap(file: string): Promise<SidecarBootstrap> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, 'utf8'));
  } catch (e) {
    throw new BootstrapError(`bootstrap ${file}: ${(e as Error).message}`);
  }
  const str = (path: string): string => {
    const v = field(doc, path);
    if (typeof v !== 'string' || v === '') throw new BootstrapError(`bootstrap ${file}: ${path} must be a non-empty string`);
    return v;
  };
  const port = field(doc, 'admin.port');
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) throw new BootstrapError(`bootstrap ${file}: admin.port must be a port number`);
  const metadata: Record<string, string> = {};
  const md = field(doc, 'node.metadata');
  if (typeof md === 'object' && md !== null) for (const [k, v] of Object.entries(md)) if (typeof v === 'string') metadata[k] = v;
  const base = dirname(resolve(file));
  const pem = async (path: string) => {
    const name = resolve(base, str(path));
    try {
      return await readFile(name);
    } catch (e) {
      throw new BootstrapError(`bootstrap ${file}: ${path} ${name}: ${(e as Error).message}`);
    }
  };
  return {
    node: { id: str('node.id'), cluster: typeof field(doc, 'node.cluster') === 'string' ? (field(doc, 'node.cluster') as string) : '', metadata },
    ads: {
      address: str('ads.address'),
      serverName: str('ads.serverName'),
      certificateChainPem: await pem('ads.certificateFile'),
      privateKeyPem: await pem('ads.privateKeyFile'),
      caPem: await pem('ads.caFile'),
    },
    admin: { address: str('admin.address'), port },
  };
}
