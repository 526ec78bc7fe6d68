import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parse, parseValid, summary } from '../../testing/manifests.js';

const meta = (kind: string, apiVersion: string, ns = 'ns') => `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: x, namespace: ${ns}}\n`;

test('every version converts to the one internal form', async (t) => {
  const cases: Array<{ name: string; yaml: string; want: unknown }> = [
    {
      name: 'access v1alpha1: top-level fields, string port kept as a restriction',
      yaml: `${meta('TrafficTarget', 'access.smi-spec.io/v1alpha1')}destination: {kind: ServiceAccount, name: b, namespace: ns, port: "9091"}
specs: [{kind: HTTPRouteGroup, name: g, matches: [m]}]
sources: [{kind: ServiceAccount, name: a, namespace: ns}]`,
      want: {
        destination: { kind: 'ServiceAccount', name: 'b', namespace: 'ns' },
        sources: [{ kind: 'ServiceAccount', name: 'a', namespace: 'ns' }],
        rules: [{ kind: 'HTTPRouteGroup', name: 'g', matches: ['m'] }],
        port: 9091,
      },
    },
    {
      name: 'access v1alpha2: spec.rules with an integer port',
      yaml: `${meta('TrafficTarget', 'access.smi-spec.io/v1alpha2')}spec:
  destination: {kind: ServiceAccount, name: b, namespace: ns, port: 8080}
  rules: [{kind: TCPRoute, name: t}]
  sources: [{kind: ServiceAccount, name: a, namespace: other}]`,
      want: {
        destination: { kind: 'ServiceAccount', name: 'b', namespace: 'ns' },
        sources: [{ kind: 'ServiceAccount', name: 'a', namespace: 'other' }],
        rules: [{ kind: 'TCPRoute', name: 't' }],
        port: 8080,
      },
    },
    {
      name: 'access v1alpha3: UDPRoute rules parse, matches omitted stays omitted',
      yaml: `${meta('TrafficTarget', 'access.smi-spec.io/v1alpha3')}spec:
  destination: {kind: ServiceAccount, name: b, namespace: ns}
  rules: [{kind: HTTPRouteGroup, name: g}, {kind: UDPRoute, name: u}]
  sources: [{kind: ServiceAccount, name: a, namespace: ns}]`,
      want: {
        destination: { kind: 'ServiceAccount', name: 'b', namespace: 'ns' },
        sources: [{ kind: 'ServiceAccount', name: 'a', namespace: 'ns' }],
        rules: [{ kind: 'HTTPRouteGroup', name: 'g' }, { kind: 'UDPRoute', name: 'u' }],
      },
    },
    {
      name: 'specs v1alpha1 HTTPRouteGroup: top-level matches',
      yaml: `${meta('HTTPRouteGroup', 'specs.smi-spec.io/v1alpha1')}matches: [{name: m, pathRegex: /a, methods: [GET]}]`,
      want: { matches: [{ name: 'm', pathRegex: '/a', methods: ['GET'] }] },
    },
    {
      name: 'specs v1alpha2 HTTPRouteGroup: header map, names lower-cased',
      yaml: `${meta('HTTPRouteGroup', 'specs.smi-spec.io/v1alpha2')}matches: [{name: m, headers: {User-Agent: ".*Android.*"}}]`,
      want: { matches: [{ name: 'm', headers: { 'user-agent': '.*Android.*' } }] },
    },
    {
      name: 'specs v1alpha4 HTTPRouteGroup: list of single-key maps becomes one map',
      yaml: `${meta('HTTPRouteGroup', 'specs.smi-spec.io/v1alpha4')}spec:
  matches:
  - name: m
    headers:
    - user-agent: ".*-http-client/*.*"
    - client-app: bookbuyer`,
      want: { matches: [{ name: 'm', headers: { 'user-agent': '.*-http-client/*.*', 'client-app': 'bookbuyer' } }] },
    },
    {
      name: 'specs v1alpha3 HTTPRouteGroup: spec.matches',
      yaml: `${meta('HTTPRouteGroup', 'specs.smi-spec.io/v1alpha3')}spec: {matches: [{name: m, methods: ["*"]}]}`,
      want: { matches: [{ name: 'm', methods: ['*'] }] },
    },
    { name: 'specs v1alpha1 TCPRoute covers every port', yaml: meta('TCPRoute', 'specs.smi-spec.io/v1alpha1'), want: { matches: { ports: [] } } },
    { name: 'specs v1alpha2 TCPRoute covers every port', yaml: meta('TCPRoute', 'specs.smi-spec.io/v1alpha2'), want: { matches: { ports: [] } } },
    { name: 'specs v1alpha3 TCPRoute (empty spec) covers every port', yaml: `${meta('TCPRoute', 'specs.smi-spec.io/v1alpha3')}spec: {}`, want: { matches: { ports: [] } } },
    {
      name: 'specs v1alpha4 TCPRoute: ports sorted and de-duplicated',
      yaml: `${meta('TCPRoute', 'specs.smi-spec.io/v1alpha4')}spec: {matches: {ports: [8080, 3306, 8080]}}`,
      want: { matches: { ports: [3306, 8080] } },
    },
    {
      name: 'specs v1alpha4 UDPRoute parses',
      yaml: `${meta('UDPRoute', 'specs.smi-spec.io/v1alpha4')}spec: {matches: {ports: [53]}}`,
      want: { matches: { ports: [53] } },
    },
    {
      name: 'split v1alpha1: quantities scaled to milli-units keeping ratios',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha1')}spec: {service: r, backends: [{service: a, weight: 100m}, {service: b, weight: 900m}]}`,
      want: { service: 'r', backends: [{ service: 'a', weight: 100 }, { service: 'b', weight: 900 }] },
    },
    {
      name: 'split v1alpha1: whole numbers and fractions',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha1')}spec: {service: r, backends: [{service: a, weight: 1}, {service: b, weight: "0.5"}]}`,
      want: { service: 'r', backends: [{ service: 'a', weight: 1000 }, { service: 'b', weight: 500 }] },
    },
    {
      name: 'split v1alpha1: nano-units below a milli keep their ratio',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha1')}spec: {service: r, backends: [{service: a, weight: 1n}, {service: b, weight: 3n}]}`,
      want: { service: 'r', backends: [{ service: 'a', weight: 1 }, { service: 'b', weight: 3 }] },
    },
    {
      name: 'split v1alpha2: integer weights',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha2')}spec: {service: r.ns, backends: [{service: a, weight: 0}, {service: b, weight: 100}]}`,
      want: { service: 'r.ns', backends: [{ service: 'a', weight: 0 }, { service: 'b', weight: 100 }] },
    },
    {
      name: 'split v1alpha4: header-matched A/B split keeps its matches',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha4')}spec:
  service: r.ns.svc.cluster.local
  matches: [{kind: HTTPRouteGroup, name: ab}]
  backends: [{service: a, weight: 1}]`,
      want: { service: 'r.ns.svc.cluster.local', matches: [{ kind: 'HTTPRouteGroup', name: 'ab' }], backends: [{ service: 'a', weight: 1 }] },
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const result = parseValid(c.yaml);
      assert.deepEqual(result.problems, []);
      assert.equal(result.objects.length, 1);
      assert.deepEqual((result.objects[0]?.object as unknown as { spec: unknown }).spec, c.want);
    });
  }
});

test('every validation error names the field and says what was expected', async (t) => {
  const tt = (spec: string, apiVersion = 'access.smi-spec.io/v1alpha3', ns = 'ns') => `${meta('TrafficTarget', apiVersion, ns)}spec:\n${spec}`;
  const cases: Array<{ name: string; yaml: string; want: ReturnType<typeof summary>[] }> = [
    {
      name: 'A10: a TrafficTarget outside its destination namespace',
      yaml: tt('  destination: {kind: ServiceAccount, name: b, namespace: other}\n  rules: [{kind: TCPRoute, name: t}]\n  sources: [{kind: ServiceAccount, name: a, namespace: ns}]'),
      want: [{ code: 'E3003', field: 'spec.destination.namespace', line: 5, message: 'must equal the TrafficTarget\'s namespace "ns": a TrafficTarget lives in its destination\'s namespace' }],
    },
    {
      name: 'A11: a source without namespace is never a wildcard',
      yaml: tt('  destination: {kind: ServiceAccount, name: b, namespace: ns}\n  rules: [{kind: TCPRoute, name: t}]\n  sources: [{kind: ServiceAccount, name: a}]'),
      want: [{ code: 'E3015', field: 'spec.sources[0].namespace', line: 7, message: 'namespace is required; an identity without a namespace is never a wildcard' }],
    },
    {
      name: 'A12: no sources and no rules',
      yaml: tt('  destination: {kind: ServiceAccount, name: b, namespace: ns}\n  rules: []\n  sources: []'),
      want: [
        { code: 'E3004', field: 'spec.sources', line: 7, message: 'at least one source is required; without one the TrafficTarget grants nothing' },
        { code: 'E3004', field: 'spec.rules', line: 6, message: 'at least one rule is required; without one the TrafficTarget grants nothing' },
      ],
    },
    {
      name: 'identities are ServiceAccounts',
      yaml: tt('  destination: {kind: ServiceAccount, name: b, namespace: ns}\n  rules: [{kind: TCPRoute, name: t}]\n  sources: [{kind: IdentityBinding, name: a, namespace: ns}]'),
      want: [{ code: 'E3005', field: 'spec.sources[0].kind', line: 7, message: 'kind must be ServiceAccount, got "IdentityBinding"' }],
    },
    {
      name: 'a match name listed twice in a rule',
      yaml: tt('  destination: {kind: ServiceAccount, name: b, namespace: ns}\n  rules: [{kind: HTTPRouteGroup, name: g, matches: [m, m]}]\n  sources: [{kind: ServiceAccount, name: a, namespace: ns}]'),
      want: [{ code: 'E3016', field: 'spec.rules[0].matches[1]', line: 6, message: 'match name "m" is listed more than once' }],
    },
    {
      name: 'access v1alpha3 has no destination.port: unknown field, with a hint',
      yaml: tt('  destination: {kind: ServiceAccount, name: b, namespace: ns, port: 80}\n  rules: [{kind: TCPRoute, name: t}]\n  sources: [{kind: ServiceAccount, name: a, namespace: ns}]'),
      want: [
        {
          code: 'E2002',
          field: 'spec.destination.port',
          line: 5,
          message:
            'unknown field; use a TCPRoute rule with spec.matches.ports (access v1alpha3 has no destination.port; use access v1alpha2 to keep it)',
        },
      ],
    },
    {
      name: 'a rule kind outside the enum',
      yaml: tt('  destination: {kind: ServiceAccount, name: b, namespace: ns}\n  rules: [{kind: GRPCRoute, name: t}]\n  sources: [{kind: ServiceAccount, name: a, namespace: ns}]'),
      want: [{ code: 'E2001', field: 'spec.rules[0].kind', line: 6, message: 'expected one of "HTTPRouteGroup", "TCPRoute", "UDPRoute", got string "GRPCRoute"' }],
    },
    {
      name: 'an access version that is not served',
      yaml: tt('  destination: {kind: ServiceAccount, name: b, namespace: ns}', 'access.smi-spec.io/v1alpha4'),
      want: [
        {
          code: 'E1006',
          field: 'apiVersion',
          line: 1,
          message: 'access.smi-spec.io/v1alpha4 is not a served version of TrafficTarget; served: access.smi-spec.io/v1alpha1, access.smi-spec.io/v1alpha2, access.smi-spec.io/v1alpha3',
        },
      ],
    },
    {
      name: 'a v1alpha1 destination port that is not a number',
      yaml: `${meta('TrafficTarget', 'access.smi-spec.io/v1alpha1')}destination: {kind: ServiceAccount, name: b, namespace: ns, port: http}\nspecs: [{kind: TCPRoute, name: t}]\nsources: [{kind: ServiceAccount, name: a, namespace: ns}]`,
      want: [{ code: 'E2001', field: 'destination.port', line: 4, message: 'expected a port number in 1-65535, got "http"' }],
    },
    {
      name: 'A3: a lookahead is not RE2',
      yaml: `${meta('HTTPRouteGroup', 'specs.smi-spec.io/v1alpha4')}spec: {matches: [{name: m, pathRegex: "/a(?=b)"}]}`,
      want: [{ code: 'E3001', field: 'spec.matches[0].pathRegex', line: 4, message: 'a lookahead "(?=...)" is not RE2 syntax (osm-ts accepts RE2 regular expressions only): "/a(?=b)"' }],
    },
    {
      name: 'A3: a backreference in a header regex is not RE2',
      yaml: `${meta('HTTPRouteGroup', 'specs.smi-spec.io/v1alpha4')}spec: {matches: [{name: m, headers: {cookie: "(a)\\\\1"}}]}`,
      want: [{ code: 'E3001', field: 'spec.matches[0].headers.cookie', line: 4, message: 'a backreference "\\1" is not RE2 syntax (osm-ts accepts RE2 regular expressions only): "(a)\\\\1"' }],
    },
    {
      name: 'an invalid regular expression',
      yaml: `${meta('HTTPRouteGroup', 'specs.smi-spec.io/v1alpha4')}spec: {matches: [{name: m, pathRegex: "/a["}]}`,
      want: [{ code: 'E3002', field: 'spec.matches[0].pathRegex', line: 4, message: 'invalid RE2 regular expression "/a[": missing closing ]: `[`' }],
    },
    {
      name: 'A4: a header named twice (case-insensitively) is rejected, never last-one-wins',
      yaml: `${meta('HTTPRouteGroup', 'specs.smi-spec.io/v1alpha4')}spec:\n  matches:\n  - name: m\n    headers:\n    - Host: a\n    - host: b`,
      want: [{ code: 'E3006', field: 'spec.matches[0].headers[1].host', line: 9, message: 'header "host" is listed more than once; merge the conditions into one regular expression' }],
    },
    {
      name: 'match names are unique within a group',
      yaml: `${meta('HTTPRouteGroup', 'specs.smi-spec.io/v1alpha4')}spec: {matches: [{name: m}, {name: m}]}`,
      want: [{ code: 'E3007', field: 'spec.matches[1].name', line: 4, message: 'match name "m" is used more than once in this HTTPRouteGroup' }],
    },
    {
      name: 'methods are upper case HTTP methods or *',
      yaml: `${meta('HTTPRouteGroup', 'specs.smi-spec.io/v1alpha4')}spec: {matches: [{name: m, methods: [get]}]}`,
      want: [
        {
          code: 'E2001',
          field: 'spec.matches[0].methods[0]',
          line: 4,
          message: 'expected one of "*", "GET", "HEAD", "PUT", "POST", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", got string "get"',
        },
      ],
    },
    {
      name: 'specs v1alpha4 keeps matches under spec (the conformance suite\'s shape is rejected)',
      yaml: `${meta('HTTPRouteGroup', 'specs.smi-spec.io/v1alpha4')}spec: {}\nmatches: [{name: m}]`,
      want: [
        { code: 'E2001', field: 'spec.matches', line: 4, message: 'required field is missing' },
        { code: 'E2002', field: 'matches', line: 5, message: 'unknown field; did you mean spec.matches?' },
      ],
    },
    {
      name: 'TCPRoute ports are port numbers',
      yaml: `${meta('TCPRoute', 'specs.smi-spec.io/v1alpha4')}spec: {matches: {ports: [0]}}`,
      want: [{ code: 'E2001', field: 'spec.matches.ports[0]', line: 4, message: 'expected a value >= 1, got 0' }],
    },
    {
      name: 'A20: fractional and negative weights',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha2')}spec:\n  service: r\n  backends:\n  - {service: a, weight: 1.5}\n  - {service: b, weight: -1}`,
      want: [
        { code: 'E3009', field: 'spec.backends[0].weight', line: 7, message: 'expected a whole number >= 0, got 1.5' },
        { code: 'E3009', field: 'spec.backends[1].weight', line: 8, message: 'expected a whole number >= 0, got -1' },
      ],
    },
    {
      name: 'A20: all-zero weights',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha2')}spec: {service: r, backends: [{service: a, weight: 0}]}`,
      want: [{ code: 'E3008', field: 'spec.backends', line: 4, message: 'weights must sum to more than 0 so that the split sends traffic somewhere' }],
    },
    {
      name: 'A17: the root service in another namespace',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha2')}spec: {service: r.other, backends: [{service: a, weight: 1}]}`,
      want: [
        { code: 'E3010', field: 'spec.service', line: 4, message: '"r.other" names namespace "other"; the root service must be a Service in the split\'s namespace "ns"' },
      ],
    },
    {
      name: 'A17: a root service name that is not a Service form',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha2')}spec: {service: r.ns.example.com, backends: [{service: a, weight: 1}]}`,
      want: [{ code: 'E3017', field: 'spec.service', line: 4, message: '"r.ns.example.com" is not a Service name; write name or name.namespace[.svc[.cluster[.local]]]' }],
    },
    {
      name: 'A18: a backend in another namespace',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha2')}spec: {service: r, backends: [{service: a.other, weight: 1}]}`,
      want: [{ code: 'E3011', field: 'spec.backends[0].service', line: 4, message: '"a.other" is not a Service name; backends are Services in the split\'s namespace "ns"' }],
    },
    {
      name: 'a backend listed twice',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha2')}spec: {service: r, backends: [{service: a, weight: 1}, {service: a, weight: 2}]}`,
      want: [{ code: 'E3012', field: 'spec.backends[1].service', line: 4, message: 'backend "a" is listed more than once' }],
    },
    {
      name: 'a v1alpha1 weight that is not a quantity',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha1')}spec: {service: r, backends: [{service: a, weight: lots}]}`,
      want: [{ code: 'E3014', field: 'spec.backends[0].weight', line: 4, message: 'invalid quantity "lots": expected a number with an optional suffix such as 100m, 1, 2k or 1Ki' }],
    },
    {
      name: 'split v1alpha2 has no matches field',
      yaml: `${meta('TrafficSplit', 'split.smi-spec.io/v1alpha2')}spec: {service: r, matches: [{kind: HTTPRouteGroup, name: g}], backends: [{service: a, weight: 1}]}`,
      want: [{ code: 'E2002', field: 'spec.matches', line: 4, message: 'unknown field' }],
    },
  ];
  for (const c of cases) {
    await t.test(c.name, () => {
      const result = parse(c.yaml);
      assert.deepEqual(result.problems.map(summary), c.want);
      assert.equal(result.objects.length, 0, 'an invalid object is not loaded');
    });
  }
});
