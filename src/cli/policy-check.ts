/**
 * `osm policy check -f PATH... --from NS/SA --to NS/SERVICE:PORT [--method M] [--path P]
 * [--header NAME=VALUE ...] [--tcp] [-o json]`: evaluates one request against the manifests,
 * TrafficSplit included, and prints ALLOW or DENY with the reason for every backend identity.
 */
import { parseArgs } from 'node:util';
import { formatProblem } from '../api/problem.js';
import {
  buildMeshModel,
  checkRequest,
  DEFAULT_CATALOG_OPTIONS,
  identityOf,
  serviceKeyOf,
  UnknownDestinationError,
  type HttpRequestAttributes,
} from '../catalog/index.js';
import { loadManifests } from '../sources/index.js';
import { UsageError, type Command } from './io.js';
import { objectsInput } from './objects-input.js';

export const policyCheckUsage =
  'usage: osm policy check -f PATH [-f PATH ...] --from NS/SERVICEACCOUNT --to NS/SERVICE:PORT [--method M] [--path P] [--header NAME=VALUE ...] [--tcp] [-o text|json]';

const NAME = '[a-z0-9](?:[-a-z0-9.]*[a-z0-9])?';

export const policyCheck: Command = async (args, io) => {
  const { values } = parseArgs({
    args,
    options: {
      file: { type: 'string', short: 'f', multiple: true },
      from: { type: 'string' },
      to: { type: 'string' },
      method: { type: 'string', default: 'GET' },
      path: { type: 'string', default: '/' },
      header: { type: 'string', multiple: true },
      tcp: { type: 'boolean', default: false },
      output: { type: 'string', short: 'o', default: 'text' },
    },
    allowPositionals: false,
  });
  const files = values.file ?? [];
  if (files.length === 0) throw new UsageError('at least one -f PATH is required');
  const from = new RegExp(`^(${NAME})/(${NAME})$`).exec(values.from ?? '');
  if (!from) throw new UsageError(`--from must be NAMESPACE/SERVICEACCOUNT, got ${JSON.stringify(values.from ?? '')}`);
  const to = new RegExp(`^(${NAME})/(${NAME}):(\\d{1,5})$`).exec(values.to ?? '');
  if (!to) throw new UsageError(`--to must be NAMESPACE/SERVICE:PORT, got ${JSON.stringify(values.to ?? '')}`);
  if (values.output !== 'text' && values.output !== 'json') throw new UsageError(`-o must be text or json, got ${values.output}`);
  const headerEntries = (values.header ?? []).map((h): [string, string] => {
    const eq = h.indexOf('=');
    if (eq <= 0) throw new UsageError(`--header must be NAME=VALUE, got ${JSON.stringify(h)}`);
    return [h.slice(0, eq).toLowerCase(), h.slice(eq + 1)];
  });
  const headers: Record<string, string> = Object.fromEntries(headerEntries);
  const [, fromNamespace = '', serviceAccount = ''] = from;
  const [, namespace = '', name = '', portText = ''] = to;
  const port = Number(portText);
  if (port < 1 || port > 65535) throw new UsageError(`--to port must be in 1-65535, got ${port}`);

  const loaded = await loadManifests(files);
  const errors = loaded.problems.filter((p) => p.severity === 'error');
  for (const p of loaded.problems) io.stderr(formatProblem(p));
  if (errors.length > 0) {
    io.stderr(`the manifests have ${errors.length} error${errors.length === 1 ? '' : 's'}; fix them first (osm validate shows them)`);
    return 1;
  }
  const model = buildMeshModel(objectsInput(loaded.objects), { ...DEFAULT_CATALOG_OPTIONS, undeclaredNamespaces: 'monitored' });
  const source = identityOf(fromNamespace, serviceAccount);
  const service = serviceKeyOf(namespace, name);
  const http: HttpRequestAttributes = {
    method: values.method.toUpperCase(),
    path: values.path,
    headers,
    authority: Object.hasOwn(headers, 'host') ? (headers.host as string) : `${name}.${namespace}.svc.cluster.local:${port}`,
  };
  let result;
  try {
    result = checkRequest(model.state, { source, service, port, tcp: values.tcp, http });
  } catch (err) {
    if (err instanceof UnknownDestinationError) {
      io.stderr(`error: ${err.message}`);
      return 1;
    }
    throw err;
  }
  if (values.output === 'json') {
    io.stdout(
      JSON.stringify({
        destinations: result.destinations.map((d) => ({
          service: d.service,
          identity: d.identity ?? null,
          weight: d.weight,
          allowed: d.allowed,
          reason: d.reason,
        })),
      }),
    );
    return 0;
  }
  const what = result.protocol === 'tcp' ? 'TCP connection' : `${http.method} ${http.path}`;
  io.stdout(`${what} from ServiceAccount ${source} to Service ${service} port ${port}`);
  for (const note of result.notes) io.stdout(note);
  for (const d of result.destinations) {
    const verdict = d.allowed ? 'ALLOW' : 'DENY ';
    io.stdout(`${verdict} service ${d.service} identity ${d.identity ?? '(none)'} weight ${d.weight}: ${d.reason}`);
  }
  return 0;
};
