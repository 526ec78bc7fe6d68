/**
 * The admin endpoints, one table row each: path, help line, whether it changes the server
 * (Envoy then requires POST), and the handler. Handlers are plain functions from a request to a
 * response; the server (server.ts) does HTTP.
 */
import type { Logger } from '../../lib/logging.js';
import { parseLogLevel, type LogLevel } from '../../lib/logging.js';
import type { ClusterDescription } from '../clusters/types.js';
import type { SecretConfig } from '../config/index.js';
import { nameFilter, parseStatsQuery, renderPrometheus, renderStatsText, statsJson, type StatsFormat, type StatsStore } from '../stats/index.js';
import { certificatesDump } from './certs.js';
import { clustersJson, clustersText, listenersJson, listenersText, type ListenerDescription } from './clusters.js';
import { buildConfigDump, type ConfigDumpInput } from './config-dump.js';

/** What the admin server reads from the sidecar. Every call returns the current state. */
export interface AdminSource {
  /** True once the first complete config was applied. */
  ready(): boolean;
  readonly stats: StatsStore;
  clusters(): readonly ClusterDescription[];
  listeners(): readonly ListenerDescription[];
  /** The current config's secrets. */
  secrets(): ReadonlyMap<string, SecretConfig>;
  xdsResources(): ConfigDumpInput;
  /** The sidecar's root logger: `/logging` reads and sets its level. */
  readonly logger: Logger;
  /** Stops the sidecar (`POST /quitquitquit`); without it the endpoint is absent. */
  quit?(): void;
}

export interface AdminRequest {
  readonly method: string;
  readonly params: URLSearchParams;
}

export interface AdminResponse {
  readonly status: number;
  readonly contentType: 'text' | 'json' | 'prometheus';
  readonly body: string;
  /** Runs once the response is sent (`/quitquitquit` stops the process after answering). */
  readonly after?: () => void;
}

export interface Endpoint {
  readonly path: string;
  readonly help: string;
  /**
   * `always`: only POST. `withParams`: reading is allowed by GET, changing needs POST
   * (`/logging` lists levels on GET, as our brief asks, where Envoy refuses GET outright).
   */
  readonly mutates: 'never' | 'always' | 'withParams';
  handle(request: AdminRequest): AdminResponse;
}

export interface EndpointContext {
  readonly source: AdminSource;
  readonly version: string;
  readonly nowMs: () => number;
  readonly startedAtMs: number;
}

const text = (body: string, status = 200): AdminResponse => ({ status, contentType: 'text', body });
const json = (value: unknown, status = 200): AdminResponse => ({ status, contentType: 'json', body: `${JSON.stringify(value, null, 2)}\n` });
const isJson = (params: URLSearchParams) => params.get('format') === 'json';

function stats(source: AdminSource, params: URLSearchParams, defaultFormat: StatsFormat): AdminResponse {
  const parsed = parseStatsQuery(params, defaultFormat);
  if (!parsed.ok) return text(`${parsed.message}\n`, 400);
  const { query } = parsed;
  if (query.format === 'prometheus') return { status: 200, contentType: 'prometheus', body: renderPrometheus(source.stats, query) };
  if (query.format === 'json') return json(statsJson(source.stats, query));
  return text(renderStatsText(source.stats, query));
}

/** Envoy's level names (`warning`, not `warn`) for `/logging`. */
function envoyLevelName(level: LogLevel): string {
  return level === 'warn' ? 'warning' : level;
}

function logging(source: AdminSource, request: AdminRequest): AdminResponse {
  const unknown = [...request.params.keys()].filter((k) => k !== 'level');
  if (unknown.length > 0) return text(`logging: ${unknown.join(', ')}: only "level" is supported; the sidecar has one logger\n`, 400);
  const wanted = request.params.get('level');
  if (wanted !== null) {
    const level = parseLogLevel(wanted);
    if (level === undefined) return text(`logging: level=${wanted}: unknown level; use trace, debug, info, warning, error, critical or off\n`, 400);
    const from = source.logger.level();
    source.logger.setLevel(level);
    source.logger.info({ event: 'admin.log_level', from, to: level }, 'log level changed through the admin interface');
  }
  return text(`active loggers:\n  proxy: ${envoyLevelName(source.logger.level())}\n`);
}

function configDump(source: AdminSource, params: URLSearchParams): AdminResponse {
  const filter = nameFilter(params.get('name_regex'));
  if (!filter.ok) return text(`config_dump: name_regex=${params.get('name_regex')}: ${filter.message}\n`, 400);
  const result = buildConfigDump(source.xdsResources(), { includeEds: params.has('include_eds'), resource: params.get('resource') ?? undefined, nameFilter: filter.test });
  return result.ok ? json(result.dump) : text(`${result.message}\n`, result.status);
}

/** Envoy's `Duration` in proto3 JSON, whole seconds as its server_info prints uptime. */
function seconds(ms: number): string {
  return `${Math.max(0, Math.floor(ms / 1000))}s`;
}

/** The endpoint table, in `/help` order. */
export function endpoints(ctx: EndpointContext): Endpoint[] {
  const { source } = ctx;
  const table: Endpoint[] = [
    { path: '/certs', help: 'print certs on machine', mutates: 'never', handle: () => json(certificatesDump(source.secrets(), ctx.nowMs())) },
    {
      path: '/clusters',
      help: 'upstream cluster status (format=json for JSON)',
      mutates: 'never',
      handle: (r) => (isJson(r.params) ? json(clustersJson(source.clusters())) : text(clustersText(source.clusters()))),
    },
    { path: '/config_dump', help: 'dump current Envoy configs (resource=, name_regex=, include_eds)', mutates: 'never', handle: (r) => configDump(source, r.params) },
    { path: '/help', help: 'print out list of admin commands', mutates: 'never', handle: () => text(helpText(table)) },
    {
      path: '/listeners',
      help: 'print listener info (format=json for JSON)',
      mutates: 'never',
      handle: (r) => (isJson(r.params) ? json(listenersJson(source.listeners())) : text(listenersText(source.listeners()))),
    },
    { path: '/logging', help: 'query/change logging levels (POST level=)', mutates: 'withParams', handle: (r) => logging(source, r) },
    { path: '/ready', help: 'print server state, return 200 if LIVE, otherwise return 503', mutates: 'never', handle: () => (source.ready() ? text('LIVE\n') : text('PRE_INITIALIZING\n', 503)) },
    {
      path: '/server_info',
      help: 'print server version/status information',
      mutates: 'never',
      handle: () => {
        const uptime = seconds(ctx.nowMs() - ctx.startedAtMs);
        return json({ version: ctx.version, state: source.ready() ? 'LIVE' : 'PRE_INITIALIZING', uptime_current_epoch: uptime, uptime_all_epochs: uptime });
      },
    },
    { path: '/stats', help: 'print server stats (usedonly, filter=, type=, format=json|prometheus)', mutates: 'never', handle: (r) => stats(source, r.params, 'text') },
    { path: '/stats/prometheus', help: 'print server stats in prometheus format (usedonly, filter=, type=)', mutates: 'never', handle: (r) => stats(source, r.params, 'prometheus') },
  ];
  const quit = source.quit?.bind(source);
  if (quit) table.push({ path: '/quitquitquit', help: 'exit the server', mutates: 'always', handle: () => ({ ...text('OK\n'), after: quit }) });
  return table.sort((a, b) => (a.path < b.path ? -1 : 1));
}

/** Envoy's help listing: `admin commands are:` and one indented line per endpoint. */
export function helpText(table: readonly Endpoint[]): string {
  return `admin commands are:\n${table.map((e) => `  ${e.path}${e.mutates === 'always' ? ' (POST)' : ''}: ${e.help}\n`).join('')}`;
}
