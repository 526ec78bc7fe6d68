/**
 * Envoy's default tag extraction: from a stat name such as
 * `cluster.bookstore/bookstore|14001.upstream_rq_200` to the tag-extracted name
 * `cluster.upstream_rq` and the tags `envoy.response_code=200`, `envoy.cluster_name=...`, which
 * `/stats/prometheus` prints as `envoy_cluster_upstream_rq{envoy_response_code="200",...}`.
 *
 * This is a port of Envoy's rules, not a redesign: the extractors, their order and how they
 * remove characters follow source/common/config/well_known_names.cc (`TagNameValues`),
 * source/common/stats/tag_extractor_impl.cc and tag_producer_impl.cc. Every extractor runs on
 * the original name and the removed spans are merged at the end, so the order of extractors
 * changes only the order of the tags. Prometheus names and labels equal Envoy's only if this
 * stays a faithful copy, including where Envoy's result is surprising:
 * - A tokenized extractor (`http.$.**`) takes one dot-free token. An HTTP connection manager
 *   whose stat prefix contains dots, as ours do (`mesh-http-conn-manager.rds-inbound.14001`),
 *   gives `envoy_http_conn_manager_prefix="mesh-http-conn-manager"` and leaves the rest in the
 *   metric name: `envoy_http_rds_inbound_14001_downstream_rq_total`. Likewise
 *   `tcp.inbound-mesh-tcp-proxy.<cluster>.<stat>` and a cluster name with a dot
 *   (`cluster.httpbin.org:80.upstream_rq_total` -> `envoy_cluster_name="httpbin"`).
 * - The RBAC, connection-limit and scoped-RDS extractors are newer than the copy of
 *   well_known_names.cc we read; they are rebuilt from the cases in Envoy's
 *   test/common/stats/tag_extractor_impl_test.cc (`DefaultTagExtractors`), which they pass.
 */

/** One extracted tag; `name` is Envoy's (`envoy.cluster_name`), Prometheus sanitises it to a label name. */
export interface Tag {
  readonly name: string;
  readonly value: string;
}

/** A stat name split into its tag-extracted name and tags, in Envoy's extraction order. */
export interface TaggedName {
  readonly tagExtractedName: string;
  readonly tags: readonly Tag[];
}

interface RegexExtractor {
  readonly kind: 'regex';
  readonly name: string;
  /** The first token every matching name has, or undefined when the pattern does not fix one. */
  readonly prefix: string | undefined;
  /** A substring every matching name contains (a cheap pre-check, as Envoy's `substr`). */
  readonly substr: string;
  /** Group 1 is removed from the name; group 2, when present, is the value (else group 1). */
  readonly re: RegExp;
  /** A value this extractor must not produce (Envoy's `negative_match`). */
  readonly negative: string | undefined;
}

interface TokenExtractor {
  readonly kind: 'tokens';
  readonly name: string;
  readonly prefix: string | undefined;
  /** Dot-separated pattern: `$` is the value, `*` any one token, `**` any run of tokens. */
  readonly tokens: readonly string[];
  readonly matchIndex: number;
}

type Extractor = RegexExtractor | TokenExtractor;

/** Envoy's substitutions for readable patterns (`expandRegex` in well_known_names.cc). */
const SUBSTITUTIONS: ReadonlyArray<[string, string]> = [
  // An IPv4 or bracketed IPv6 address (':' already turned into '_') and the port after '_'.
  ['<ADDRESS>', String.raw`(?:(?:\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}|\[[a-fA-F_\d]+\])_\d+)`],
  ['<CIPHER>', String.raw`[\w-]+`],
  ['<TLS_VERSION>', String.raw`TLSv\d\.\d`],
  ['<TAG_VALUE>', String.raw`[^\.]+`],
  // Route config names may hold dots, dashes and slashes (newer Envoy added '/', as its tests expect).
  ['<ROUTE_CONFIG_NAME>', String.raw`[\w./-]+`],
  ['<LISTENER_OR_CLUSTER_WITH_NAME>', String.raw`(?:listener|cluster)\..*?`],
];

function expand(pattern: string): string {
  let out = pattern;
  for (const [from, to] of SUBSTITUTIONS) out = out.split(from).join(to);
  return out;
}

/** Envoy's `extractRegexPrefix`: `^word\.` or `^word(?=\.)` fixes the first token. */
function regexPrefix(pattern: string): string | undefined {
  const m = /^\^([A-Za-z0-9_]+)(?:\\\.|\(\?=\\\.\))/.exec(pattern);
  return m?.[1];
}

function regex(name: string, pattern: string, substr = '', negative?: string): RegexExtractor {
  const source = expand(pattern);
  return { kind: 'regex', name, prefix: regexPrefix(source), substr, re: new RegExp(source, 'd'), negative };
}

function tokens(name: string, pattern: string): TokenExtractor {
  const parts = pattern.split('.');
  const first = parts[0] as string;
  return { kind: 'tokens', name, prefix: ['$', '*', '**'].includes(first) ? undefined : first, tokens: parts, matchIndex: parts.indexOf('$') };
}

/** Tag names (source/common/config/well_known_names.h). */
const T = {
  clusterName: 'envoy.cluster_name',
  listenerAddress: 'envoy.listener_address',
  responseCode: 'envoy.response_code',
  responseCodeClass: 'envoy.response_code_class',
  hcmPrefix: 'envoy.http_conn_manager_prefix',
  userAgent: 'envoy.http_user_agent',
  sslCipher: 'envoy.ssl_cipher',
  sslCurve: 'envoy.ssl_curve',
  sslSigalg: 'envoy.ssl_sigalg',
  sslVersion: 'envoy.ssl_version',
  sslCipherSuite: 'cipher_suite',
  grpcBridgeService: 'envoy.grpc_bridge_service',
  grpcBridgeMethod: 'envoy.grpc_bridge_method',
  virtualHost: 'envoy.virtual_host',
  virtualCluster: 'envoy.virtual_cluster',
  route: 'envoy.route',
  faultDownstreamCluster: 'envoy.fault_downstream_cluster',
  dynamoOperation: 'envoy.dynamo_operation',
  dynamoTable: 'envoy.dynamo_table',
  dynamoPartitionId: 'envoy.dynamo_partition_id',
  mongoPrefix: 'envoy.mongo_prefix',
  mongoCmd: 'envoy.mongo_cmd',
  mongoCollection: 'envoy.mongo_collection',
  mongoCallsite: 'envoy.mongo_callsite',
  tcpPrefix: 'envoy.tcp_prefix',
  udpPrefix: 'envoy.udp_prefix',
  clientSslPrefix: 'envoy.clientssl_prefix',
  rateLimitPrefix: 'envoy.ratelimit_prefix',
  localHttpRateLimitPrefix: 'envoy.local_http_ratelimit_prefix',
  localNetworkRateLimitPrefix: 'envoy.local_network_ratelimit_prefix',
  localListenerRateLimitPrefix: 'envoy.local_listener_ratelimit_prefix',
  connectionLimitPrefix: 'envoy.connection_limit_prefix',
  rbacPrefix: 'envoy.rbac_prefix',
  rbacHttpPrefix: 'envoy.rbac_http_prefix',
  rbacPolicyName: 'envoy.rbac_policy_name',
  rdsRouteConfig: 'envoy.rds_route_config',
  scopedRdsConfig: 'envoy.scoped_rds_config',
  workerId: 'envoy.worker_id',
  thriftPrefix: 'envoy.thrift_prefix',
  redisPrefix: 'envoy.redis_prefix',
  dnsFilterPrefix: 'envoy.dns_filter_prefix',
  extAuthzPrefix: 'envoy.ext_authz_prefix',
} as const;

const RE = String.raw;

/** Regex extractors, in Envoy's order (`TagNameValues::TagNameValues`, the `addRe2` calls). */
const REGEX_EXTRACTORS: readonly RegexExtractor[] = [
  regex(T.responseCode, RE`_rq(_(\d{3}))$`, '_rq_'),
  regex(T.responseCodeClass, RE`_rq_((\d))xx$`, '_rq_'),
  regex(T.dynamoPartitionId, RE`^http\.<TAG_VALUE>\.dynamodb\.table\.<TAG_VALUE>\.capacity\.<TAG_VALUE>(\.__partition_id=(\w{7}))$`, '.dynamodb.table.'),
  regex(T.dynamoOperation, RE`^http\.<TAG_VALUE>\.dynamodb.(?:operation|table\.<TAG_VALUE>\.capacity)(\.(<TAG_VALUE>))(?:\.|$)`, '.dynamodb.'),
  regex(T.dynamoTable, RE`^http\.<TAG_VALUE>\.dynamodb.(?:table|error)\.((<TAG_VALUE>)\.)`, '.dynamodb.'),
  regex(T.sslCipher, RE`^listener\..*?\.ssl\.ciphers(\.(<CIPHER>))$`, '.ssl.ciphers.'),
  regex(T.sslCurve, RE`^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.curves(\.(<CIPHER>))$`, '.ssl.curves.'),
  regex(T.sslSigalg, RE`^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.sigalgs(\.(<CIPHER>))$`, '.ssl.sigalgs.'),
  regex(T.sslVersion, RE`^<LISTENER_OR_CLUSTER_WITH_NAME>\.ssl\.versions(\.(<TLS_VERSION>))$`, '.ssl.versions.'),
  regex(T.sslCipherSuite, RE`^cluster\.<TAG_VALUE>\.ssl\.ciphers(\.(<CIPHER>))$`, '.ssl.ciphers.'),
  // The address part can be anything here, as in Envoy (a simpler regex state).
  regex(T.hcmPrefix, RE`^listener\..*?\.http\.((<TAG_VALUE>)\.)`, '.http.'),
  regex(T.workerId, RE`^(?:listener\.(?:<ADDRESS>|<TAG_VALUE>)\.|server\.|listener_manager\.)worker_((\d+)\.)`),
  regex(T.listenerAddress, RE`^listener\.((<ADDRESS>|<TAG_VALUE>)\.)`, '', 'admin'),
  // Route config names may contain dots, so this one needs the whole name to match.
  regex(T.rdsRouteConfig, RE`^http\.<TAG_VALUE>\.rds\.((<ROUTE_CONFIG_NAME>)\.)\w+?$`, '.rds.'),
  regex(T.scopedRdsConfig, RE`^http\.<TAG_VALUE>\.scoped_rds\.((<ROUTE_CONFIG_NAME>)\.)\w+?$`, '.scoped_rds.'),
  // http.<hcm>.rbac.(<rules_stat_prefix>.)<stat>, where the rules prefix is never `policy`.
  regex(T.rbacHttpPrefix, RE`^http\.<TAG_VALUE>\.rbac\.((<TAG_VALUE>)\.)`, '.rbac.', 'policy'),
  // http.<hcm>.rbac.[<rules_stat_prefix>.]policy.(<policy_name>.)<stat>
  regex(T.rbacPolicyName, RE`^http\.<TAG_VALUE>\.rbac\.(?:<TAG_VALUE>\.)?policy\.((<TAG_VALUE>)\.)`, '.policy.'),
];

/** Tokenized extractors, in Envoy's order (the `addTokenized` calls). */
const TOKEN_EXTRACTORS: readonly TokenExtractor[] = [
  tokens(T.mongoCallsite, 'mongo.*.collection.*.callsite.$.query.**'),
  tokens(T.mongoCollection, 'mongo.*.collection.$.**.query.*'),
  tokens(T.mongoCmd, 'mongo.*.cmd.$.**'),
  tokens(T.grpcBridgeMethod, 'cluster.*.grpc.*.$.**'),
  tokens(T.userAgent, 'http.*.user_agent.$.**'),
  tokens(T.virtualCluster, 'vhost.*.vcluster.$.**'),
  tokens(T.faultDownstreamCluster, 'http.*.fault.$.**'),
  tokens(T.grpcBridgeService, 'cluster.*.grpc.$.**'),
  tokens(T.tcpPrefix, 'tcp.$.**'),
  tokens(T.udpPrefix, 'udp.$.**'),
  tokens(T.clientSslPrefix, 'auth.clientssl.$.**'),
  tokens(T.rateLimitPrefix, 'ratelimit.$.**'),
  tokens(T.clusterName, 'cluster.$.**'),
  tokens(T.extAuthzPrefix, 'cluster.*.ext_authz.$.**'),
  tokens(T.extAuthzPrefix, 'http.*.ext_authz.$.**'),
  tokens(T.hcmPrefix, 'http.$.**'),
  tokens(T.virtualHost, 'vhost.$.**'),
  tokens(T.mongoPrefix, 'mongo.$.**'),
  tokens(T.route, 'vhost.*.route.$.**'),
  tokens(T.thriftPrefix, 'thrift.$.**'),
  tokens(T.redisPrefix, 'redis.$.**'),
  tokens(T.localHttpRateLimitPrefix, '$.http_local_rate_limit.**'),
  tokens(T.localNetworkRateLimitPrefix, 'local_rate_limit.$.**'),
  tokens(T.localListenerRateLimitPrefix, 'listener_local_ratelimit.$.**'),
  tokens(T.dnsFilterPrefix, 'dns_filter.$.**'),
  tokens(T.connectionLimitPrefix, 'connection_limit.$.**'),
  tokens(T.rbacPrefix, '$.rbac.**'),
];

/**
 * Envoy's dispatch order (`TagProducerImpl::forEachExtractorMatching`): extractors without a
 * fixed first token, then those registered for the name's first token; regex extractors were
 * registered before tokenized ones. This order is the order of the tags in the output.
 */
const WITHOUT_PREFIX: readonly Extractor[] = [...REGEX_EXTRACTORS, ...TOKEN_EXTRACTORS].filter((e) => e.prefix === undefined);
const BY_PREFIX: ReadonlyMap<string, readonly Extractor[]> = (() => {
  const map = new Map<string, Extractor[]>();
  for (const e of [...REGEX_EXTRACTORS, ...TOKEN_EXTRACTORS]) {
    if (e.prefix === undefined) continue;
    const list = map.get(e.prefix) ?? [];
    list.push(e);
    map.set(e.prefix, list);
  }
  return map;
})();

type Span = readonly [start: number, end: number];

function extractRegex(e: RegexExtractor, name: string): { tag: Tag; remove: Span } | undefined {
  if (e.substr !== '' && !name.includes(e.substr)) return undefined;
  const m = e.re.exec(name);
  const removeAt = m?.indices?.[1];
  if (!m || !removeAt || removeAt[0] === removeAt[1]) return undefined;
  const value = m[2] !== undefined && m[2] !== '' ? m[2] : (m[1] as string);
  if (e.negative !== undefined && value === e.negative) return undefined;
  return { tag: { name: e.name, value }, remove: [removeAt[0], removeAt[1]] };
}

/** Envoy's `TagExtractorTokensImpl::searchTags`: where `$` lands, or undefined when the pattern does not match. */
function searchTokens(pattern: readonly string[], matchIndex: number, input: readonly string[], inputStart: number, patternStart: number, charStart: number): { index: number; char: number } | undefined {
  let found: { index: number; char: number } | undefined;
  let charIndex = charStart;
  let i = inputStart;
  let p = patternStart;
  for (; i < input.length && p < pattern.length; i++, p++) {
    if (p === matchIndex) {
      found = { index: i, char: charIndex };
      charIndex += (input[i] as string).length + 1;
      continue;
    }
    const expected = pattern[p] as string;
    if (expected === '**') {
      if (p === pattern.length - 1) return found ?? { index: -1, char: 0 };
      // A `**` before more pattern may swallow any run of tokens: try each suffix.
      for (let j = i; j < input.length; j++) {
        const rest = searchTokens(pattern, matchIndex, input, j, p + 1, charIndex);
        if (rest) return found ?? rest;
        charIndex += (input[j] as string).length + 1;
      }
      return undefined;
    }
    const token = input[i] as string;
    if (expected !== '*' && expected !== token) return undefined;
    charIndex += token.length + 1;
  }
  return p === pattern.length && i === input.length ? (found ?? { index: -1, char: 0 }) : undefined;
}

function extractTokens(e: TokenExtractor, name: string, input: readonly string[]): { tag: Tag; remove: Span } | undefined {
  const at = searchTokens(e.tokens, e.matchIndex, input, 0, 0, 0);
  if (!at || at.index < 0) return undefined;
  const value = input[at.index] as string;
  let start = at.char;
  let end = start + value.length;
  // Remove the dot after the value ("ab." or "cd."), or before it when it is the last token (".ef").
  if (at.index < input.length - 1) end++;
  else if (start > 0) start--;
  return { tag: { name: e.name, value }, remove: [start, end] };
}

function removeSpans(name: string, spans: Span[]): string {
  if (spans.length === 0) return name;
  spans.sort((a, b) => a[0] - b[0]);
  let out = '';
  let at = 0;
  for (const [start, end] of spans) {
    if (start > at) out += name.slice(at, start);
    at = Math.max(at, end);
  }
  return out + name.slice(at);
}

/** Splits an Envoy stat name into its tag-extracted name and tags, as Envoy's default tag producer does. */
export function extractTags(name: string): TaggedName {
  const tags: Tag[] = [];
  const spans: Span[] = [];
  const seen = new Set<string>();
  let input: string[] | undefined;
  const dot = name.indexOf('.');
  const prefixed = dot < 0 ? [] : (BY_PREFIX.get(name.slice(0, dot)) ?? []);
  for (const e of [...WITHOUT_PREFIX, ...prefixed]) {
    // Only the HTTP connection manager and ext_authz have two extractors; the first match wins.
    if (seen.has(e.name)) continue;
    const hit = e.kind === 'regex' ? extractRegex(e, name) : extractTokens(e, name, (input ??= name.split('.')));
    if (!hit) continue;
    seen.add(e.name);
    tags.push(hit.tag);
    spans.push(hit.remove);
  }
  return { tagExtractedName: removeSpans(name, spans), tags };
}
