import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseManifest } from '../parse.js';
import type { Problem } from '../problem.js';
import { registry } from '../registry.js';
import { defaultMeshConfigSpec, DEFAULT_PERMISSIVE_TRAFFIC_POLICY_MODE, type MeshConfig, type MeshConfigSpec } from './index.js';

const brief = (p: Problem) => ({ code: p.code, severity: p.severity, field: p.field, message: p.message, line: p.source?.line });

const header = (apiVersion: string, name = 'osm-mesh-config') =>
  `apiVersion: config.openservicemesh.io/${apiVersion}\nkind: MeshConfig\nmetadata:\n  name: ${name}\n  namespace: osm-system\n`;

function parseOne(text: string): { config: MeshConfig | undefined; problems: Problem[] } {
  const r = parseManifest(text, 'f.yaml', registry);
  return { config: r.objects[0]?.object as MeshConfig | undefined, problems: r.problems };
}

/** Leaf values by path; empty objects and lists count as leaves, absent optional fields do not appear. */
function flatten(value: unknown, path = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  const isBranch = typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length > 0;
  if (!isBranch) {
    out[path] = value;
    return out;
  }
  for (const [k, v] of Object.entries(value)) flatten(v, path === '' ? k : `${path}.${k}`, out);
  return out;
}

// Every default of osm.md 2.3; the one deliberate difference is permissive mode.
const defaults: Record<string, unknown> = {
  'sidecar.enablePrivilegedInitContainer': false,
  'sidecar.logLevel': 'error',
  'sidecar.maxDataPlaneConnections': 0,
  'sidecar.envoyImage': 'envoyproxy/envoy-distroless:v1.22.2',
  'sidecar.envoyWindowsImage': 'envoyproxy/envoy-windows:v1.22.1',
  'sidecar.initContainerImage': 'openservicemesh/init:v1.2.4',
  'sidecar.configResyncInterval': '0s',
  'sidecar.resources': {},
  'sidecar.tlsMinProtocolVersion': 'TLSv1_2',
  'sidecar.tlsMaxProtocolVersion': 'TLSv1_3',
  'sidecar.localProxyMode': 'Localhost',
  'traffic.enableEgress': true,
  'traffic.enablePermissiveTrafficPolicyMode': false,
  'traffic.outboundIPRangeExclusionList': [],
  'traffic.outboundIPRangeInclusionList': [],
  'traffic.outboundPortExclusionList': [],
  'traffic.inboundPortExclusionList': [],
  'traffic.networkInterfaceExclusionList': [],
  'traffic.inboundExternalAuthorization.enable': false,
  'traffic.inboundExternalAuthorization.statPrefix': 'inboundExtAuthz',
  'traffic.inboundExternalAuthorization.timeout': '1s',
  'traffic.inboundExternalAuthorization.failureModeAllow': false,
  'observability.osmLogLevel': 'info',
  'observability.enableDebugServer': false,
  'observability.tracing.enable': false,
  'observability.tracing.address': 'jaeger.osm-system.svc.cluster.local',
  'observability.tracing.port': 9411,
  'observability.tracing.endpoint': '/api/v2/spans',
  'certificate.serviceCertValidityDuration': '24h',
  'certificate.certKeyBitSize': 2048,
  'featureFlags.enableWASMStats': true,
  'featureFlags.enableEgressPolicy': true,
  'featureFlags.enableMulticlusterMode': false,
  'featureFlags.enableSnapshotCacheMode': false,
  'featureFlags.enableAsyncProxyServiceMapping': false,
  'featureFlags.enableIngressBackendPolicy': true,
  'featureFlags.enableEnvoyActiveHealthChecks': false,
  'featureFlags.enableRetryPolicy': false,
  'featureFlags.enableMeshRootCertificate': false,
};

// Ways to write a MeshConfig that sets nothing: each must decode to the complete defaults.
const emptyForms = [
  { name: 'v1alpha2 without spec', text: header('v1alpha2') },
  { name: 'v1alpha2 with spec: {}', text: `${header('v1alpha2')}spec: {}\n` },
  { name: 'v1alpha2 with empty and null sections', text: `${header('v1alpha2')}spec:\n  sidecar:\n  traffic: {}\n  observability: { tracing: {} }\n  certificate: {}\n  featureFlags:\n` },
  { name: 'v1alpha1 without spec', text: header('v1alpha1') },
];

function emptySpecs(): Array<{ name: string; flat: Record<string, unknown> }> {
  return emptyForms.map((f) => {
    const { config, problems } = parseOne(f.text);
    assert.deepEqual(problems, [], f.name);
    return { name: f.name, flat: flatten(config?.spec) };
  });
}

for (const [path, want] of Object.entries(defaults)) {
  test(`MeshConfig default: spec.${path} is ${JSON.stringify(want)}`, () => {
    assert.deepEqual(flatten(defaultMeshConfigSpec())[path], want, 'defaultMeshConfigSpec()');
    for (const e of emptySpecs()) assert.deepEqual(e.flat[path], want, e.name);
  });
}

test('MeshConfig defaults: the table covers every field, and nothing else is set', () => {
  assert.deepEqual(flatten(defaultMeshConfigSpec()), defaults);
  for (const e of emptySpecs()) assert.deepEqual(e.flat, defaults, e.name);
});

test('MeshConfig defaults: permissive mode is off unless asked for (osm-ts differs from OSM here)', () => {
  assert.equal(DEFAULT_PERMISSIVE_TRAFFIC_POLICY_MODE, false);
  assert.equal(defaultMeshConfigSpec().traffic.enablePermissiveTrafficPolicyMode, false);
});

test('MeshConfig defaults: each call returns a fresh object, and the tracing collector follows the namespace', () => {
  const a = defaultMeshConfigSpec();
  a.traffic.outboundPortExclusionList.push(6379);
  assert.deepEqual(defaultMeshConfigSpec().traffic.outboundPortExclusionList, []);
  assert.equal(defaultMeshConfigSpec({ osmNamespace: 'mesh' }).observability.tracing.address, 'jaeger.mesh.svc.cluster.local');
  const { config } = parseOne(header('v1alpha2').replace('namespace: osm-system', 'namespace: mesh'));
  assert.equal(config?.spec.observability.tracing.address, 'jaeger.mesh.svc.cluster.local');
});

test('MeshConfig v1alpha1 converts to the internal form; fields it lacks take their defaults', () => {
  const text = `apiVersion: config.openservicemesh.io/v1alpha1
kind: MeshConfig
metadata: { name: osm-mesh-config, namespace: mesh }
spec:
  sidecar: { logLevel: debug, configResyncInterval: 45s, resources: { limits: { cpu: 500m } } }
  traffic:
    enablePermissiveTrafficPolicyMode: true
    outboundPortExclusionList: [6379]
    outboundIPRangeExclusionList: [169.254.169.254/32]
    inboundExternalAuthorization: { enable: true, address: authz.mesh.svc.cluster.local, port: 9001 }
  observability: { tracing: { enable: true, port: 14268 } }
  certificate: { serviceCertValidityDuration: 1h, certKeyBitSize: 4096 }
  featureFlags: { enableRetryPolicy: true }
`;
  const r = parseManifest(text, 'f.yaml', registry);
  assert.deepEqual(r.problems, []);
  assert.equal(r.objects[0]?.apiVersion, 'config.openservicemesh.io/v1alpha1');
  const want: MeshConfigSpec = defaultMeshConfigSpec({ osmNamespace: 'mesh' });
  want.sidecar.logLevel = 'debug';
  want.sidecar.configResyncInterval = '45s';
  want.sidecar.resources = { limits: { cpu: '500m' } };
  want.traffic.enablePermissiveTrafficPolicyMode = true;
  want.traffic.outboundPortExclusionList = [6379];
  want.traffic.outboundIPRangeExclusionList = ['169.254.169.254/32'];
  want.traffic.inboundExternalAuthorization = {
    enable: true,
    address: 'authz.mesh.svc.cluster.local',
    port: 9001,
    statPrefix: 'inboundExtAuthz',
    timeout: '1s',
    failureModeAllow: false,
  };
  want.observability.tracing = { enable: true, address: 'jaeger.mesh.svc.cluster.local', port: 14268, endpoint: '/api/v2/spans' };
  want.certificate = { serviceCertValidityDuration: '1h', certKeyBitSize: 4096 };
  want.featureFlags.enableRetryPolicy = true;
  const config = r.objects[0]?.object as MeshConfig;
  assert.equal(config.kind, 'MeshConfig');
  assert.deepEqual(config.spec, want);
});

test('MeshConfig v1alpha1: a v1alpha2-only field is pruned with a warning and takes its default', () => {
  const { config, problems } = parseOne(`${header('v1alpha1')}spec:\n  sidecar:\n    tlsMinProtocolVersion: TLSv1_3\n`);
  assert.deepEqual(problems.map(brief), [
    { code: 'E2003', severity: 'warning', field: 'spec.sidecar.tlsMinProtocolVersion', message: 'unknown field, ignored', line: 8 },
  ]);
  assert.equal(config?.spec.sidecar.tlsMinProtocolVersion, 'TLSv1_2');
});

const spec = (body: string) => `${header('v1alpha2')}spec:\n${body}`;
const logLevels = '"trace", "debug", "info", "warning", "warn", "error", "critical", "off"';
const tlsVersions = '"TLS_AUTO", "TLSv1_0", "TLSv1_1", "TLSv1_2", "TLSv1_3"';
const authz = 'spec.traffic.inboundExternalAuthorization';

const problemCases: Array<{ name: string; text: string; kept: boolean; want: Array<ReturnType<typeof brief>> }> = [
  {
    name: 'an unknown Envoy log level',
    text: spec('  sidecar:\n    logLevel: verbose\n'),
    kept: false,
    want: [{ code: 'E2001', severity: 'error', field: 'spec.sidecar.logLevel', message: `expected one of ${logLevels}, got string "verbose"`, line: 8 }],
  },
  {
    name: 'a TLS version spelt with dots',
    text: spec('  sidecar:\n    tlsMaxProtocolVersion: TLSv1.3\n'),
    kept: false,
    want: [{ code: 'E2001', severity: 'error', field: 'spec.sidecar.tlsMaxProtocolVersion', message: `expected one of ${tlsVersions}, got string "TLSv1.3"`, line: 8 }],
  },
  {
    name: 'a TLS minimum above the maximum',
    text: spec('  sidecar:\n    tlsMinProtocolVersion: TLSv1_3\n    tlsMaxProtocolVersion: TLSv1_2\n'),
    kept: false,
    want: [
      {
        code: 'E4007',
        severity: 'error',
        field: 'spec.sidecar.tlsMinProtocolVersion',
        message: 'expected a version no higher than tlsMaxProtocolVersion TLSv1_2, got TLSv1_3: no TLS version would be left to negotiate',
        line: 8,
      },
    ],
  },
  {
    name: 'an unknown local proxy mode',
    text: spec('  sidecar:\n    localProxyMode: podIP\n'),
    kept: false,
    want: [{ code: 'E2001', severity: 'error', field: 'spec.sidecar.localProxyMode', message: 'expected one of "Localhost", "PodIP", got string "podIP"', line: 8 }],
  },
  {
    name: 'a resync interval under 30s',
    text: spec('  sidecar:\n    configResyncInterval: 10s\n'),
    kept: false,
    want: [{ code: 'E4003', severity: 'error', field: 'spec.sidecar.configResyncInterval', message: 'expected "0s" (no periodic resync) or at least 30s, got "10s"', line: 8 }],
  },
  {
    name: 'a negative resync interval',
    text: spec('  sidecar:\n    configResyncInterval: -1m\n'),
    kept: false,
    want: [{ code: 'E4003', severity: 'error', field: 'spec.sidecar.configResyncInterval', message: 'expected "0s" (no periodic resync) or at least 30s, got "-1m"', line: 8 }],
  },
  {
    name: 'a resync interval without a unit',
    text: spec('  sidecar:\n    configResyncInterval: "60"\n'),
    kept: false,
    want: [{ code: 'E4002', severity: 'error', field: 'spec.sidecar.configResyncInterval', message: 'expected a Go duration such as "24h", "1m30s" or "250ms", got "60"', line: 8 }],
  },
  {
    name: 'a negative connection cap',
    text: spec('  sidecar:\n    maxDataPlaneConnections: -1\n'),
    kept: false,
    want: [{ code: 'E2001', severity: 'error', field: 'spec.sidecar.maxDataPlaneConnections', message: 'expected a value >= 0, got -1', line: 8 }],
  },
  {
    name: 'a CIDR with a prefix too long, among good ones',
    text: spec('  traffic:\n    outboundIPRangeExclusionList: [10.0.0.0/8, 10.0.0.0/33]\n'),
    kept: false,
    want: [{ code: 'E4005', severity: 'error', field: 'spec.traffic.outboundIPRangeExclusionList[1]', message: 'expected an IPv4 CIDR such as "10.0.0.0/8", got "10.0.0.0/33"', line: 8 }],
  },
  {
    name: 'an IPv6 CIDR in the inclusion list (iptables there is IPv4 only)',
    text: spec('  traffic:\n    outboundIPRangeInclusionList:\n    - fd00::/8\n'),
    kept: false,
    want: [{ code: 'E4005', severity: 'error', field: 'spec.traffic.outboundIPRangeInclusionList[0]', message: 'expected an IPv4 CIDR such as "10.0.0.0/8", got "fd00::/8"', line: 9 }],
  },
  {
    name: 'a bare address where a CIDR belongs',
    text: spec('  traffic:\n    outboundIPRangeExclusionList: [10.0.0.1]\n'),
    kept: false,
    want: [{ code: 'E4005', severity: 'error', field: 'spec.traffic.outboundIPRangeExclusionList[0]', message: 'expected an IPv4 CIDR such as "10.0.0.0/8", got "10.0.0.1"', line: 8 }],
  },
  {
    name: 'port 0 in the outbound exclusion list',
    text: spec('  traffic:\n    outboundPortExclusionList: [0]\n'),
    kept: false,
    want: [{ code: 'E2001', severity: 'error', field: 'spec.traffic.outboundPortExclusionList[0]', message: 'expected a value >= 1, got 0', line: 8 }],
  },
  {
    name: 'a port above 65535 in the inbound exclusion list',
    text: spec('  traffic:\n    inboundPortExclusionList: [8080, 65536]\n'),
    kept: false,
    want: [{ code: 'E2001', severity: 'error', field: 'spec.traffic.inboundPortExclusionList[1]', message: 'expected a value <= 65535, got 65536', line: 8 }],
  },
  {
    name: 'a string where a boolean belongs',
    text: spec('  traffic:\n    enableEgress: "yes"\n'),
    kept: false,
    want: [{ code: 'E2001', severity: 'error', field: 'spec.traffic.enableEgress', message: 'expected true or false, got string "yes"', line: 8 }],
  },
  {
    name: 'external authorization enabled without an address or port',
    text: spec('  traffic:\n    inboundExternalAuthorization:\n      enable: true\n'),
    kept: false,
    want: [
      { code: 'E4009', severity: 'error', field: `${authz}.address`, message: `required when ${authz}.enable is true`, line: 8 },
      { code: 'E4009', severity: 'error', field: `${authz}.port`, message: `required when ${authz}.enable is true`, line: 8 },
    ],
  },
  {
    name: 'an external authorization port out of range',
    text: spec('  traffic:\n    inboundExternalAuthorization: { port: 70000 }\n'),
    kept: false,
    want: [{ code: 'E2001', severity: 'error', field: `${authz}.port`, message: 'expected a value <= 65535, got 70000', line: 8 }],
  },
  {
    name: 'a zero external authorization timeout',
    text: spec('  traffic:\n    inboundExternalAuthorization:\n      timeout: 0s\n'),
    kept: false,
    want: [{ code: 'E4004', severity: 'error', field: `${authz}.timeout`, message: 'expected a duration longer than 0s, got "0s"', line: 9 }],
  },
  {
    name: 'a tracing port of 0',
    text: spec('  observability:\n    tracing: { enable: true, port: 0 }\n'),
    kept: false,
    want: [{ code: 'E2001', severity: 'error', field: 'spec.observability.tracing.port', message: 'expected a value >= 1, got 0', line: 8 }],
  },
  {
    name: 'an unknown control-plane log level is only a warning',
    text: spec('  observability:\n    osmLogLevel: verbose\n'),
    kept: true,
    want: [
      {
        code: 'E4008',
        severity: 'warning',
        field: 'spec.observability.osmLogLevel',
        message: 'expected one of "trace", "debug", "info", "warn", "error", "fatal", "panic" or "disabled", got "verbose"; the control plane keeps its current log level',
        line: 8,
      },
    ],
  },
  {
    name: 'a certificate validity written in days',
    text: spec('  certificate:\n    serviceCertValidityDuration: 1d\n'),
    kept: false,
    want: [{ code: 'E4002', severity: 'error', field: 'spec.certificate.serviceCertValidityDuration', message: 'expected a Go duration such as "24h", "1m30s" or "250ms", got "1d"', line: 8 }],
  },
  {
    name: 'a certificate validity of 0s',
    text: spec('  certificate:\n    serviceCertValidityDuration: 0s\n'),
    kept: false,
    want: [{ code: 'E4004', severity: 'error', field: 'spec.certificate.serviceCertValidityDuration', message: 'expected a duration longer than 0s, got "0s"', line: 8 }],
  },
  {
    name: 'a key size under 2048 bits',
    text: spec('  certificate:\n    certKeyBitSize: 1024\n'),
    kept: false,
    want: [{ code: 'E2001', severity: 'error', field: 'spec.certificate.certKeyBitSize', message: 'expected a value >= 2048, got 1024', line: 8 }],
  },
  {
    name: 'a key size over 4096 bits',
    text: spec('  certificate:\n    certKeyBitSize: 8192\n'),
    kept: false,
    want: [{ code: 'E2001', severity: 'error', field: 'spec.certificate.certKeyBitSize', message: 'expected a value <= 4096, got 8192', line: 8 }],
  },
  {
    name: 'an ingress gateway certificate with a bad validity',
    text: spec('  certificate:\n    ingressGateway:\n      subjectAltNames: [gw.example.com]\n      validityDuration: forever\n      secret: { name: gw-cert, namespace: osm-system }\n'),
    kept: false,
    want: [{ code: 'E4002', severity: 'error', field: 'spec.certificate.ingressGateway.validityDuration', message: 'expected a Go duration such as "24h", "1m30s" or "250ms", got "forever"', line: 10 }],
  },
  {
    name: 'an ingress gateway certificate without names',
    text: spec('  certificate:\n    ingressGateway:\n      subjectAltNames: []\n      validityDuration: 24h\n      secret: { name: gw-cert, namespace: osm-system }\n'),
    kept: false,
    want: [{ code: 'E2001', severity: 'error', field: 'spec.certificate.ingressGateway.subjectAltNames', message: 'expected at least 1 item, got 0', line: 9 }],
  },
  {
    name: 'another name is read but warned about',
    text: header('v1alpha2', 'mesh-config'),
    kept: true,
    want: [
      { code: 'E4001', severity: 'warning', field: 'metadata.name', message: 'expected the name "osm-mesh-config": OSM and osm-ts read only the MeshConfig of that name', line: 4 },
    ],
  },
  {
    name: 'an unknown feature flag is pruned with a warning',
    text: spec('  featureFlags:\n    enableSPIFFE: true\n'),
    kept: true,
    want: [{ code: 'E2003', severity: 'warning', field: 'spec.featureFlags.enableSPIFFE', message: 'unknown field, ignored', line: 8 }],
  },
];

for (const c of problemCases) {
  test(`MeshConfig: ${c.name}`, () => {
    const { config, problems } = parseOne(c.text);
    assert.deepEqual(problems.map(brief), c.want);
    assert.equal(config !== undefined, c.kept);
  });
}

// This file runs as dist/src/api/osm/mesh-config.test.js; five levels up is the checkout's
// parent, which holds shared/. OSM's file is read in place, never copied.
const published = fileURLToPath(new URL('../../../../../shared/data/osm/manifests/meshconfig/mesh-config.yaml', import.meta.url));

test("MeshConfig: OSM's published mesh-config.yaml is valid, with warnings only for its misplaced fields", () => {
  const r = parseManifest(readFileSync(published, 'utf8'), published, registry);
  const hint = (f: string) => `unknown field, ignored; did you mean spec.traffic.${f}?`;
  assert.deepEqual(r.problems.map(brief), [
    { code: 'E2003', severity: 'warning', field: 'spec.observability.outboundPortExclusionList', message: hint('outboundPortExclusionList'), line: 18 },
    { code: 'E2003', severity: 'warning', field: 'spec.observability.inboundPortExclusionList', message: hint('inboundPortExclusionList'), line: 19 },
    { code: 'E2003', severity: 'warning', field: 'spec.observability.outboundIPRangeExclusionList', message: hint('outboundIPRangeExclusionList'), line: 20 },
  ]);
  assert.equal(r.objects.length, 1);
  const config = r.objects[0]?.object as MeshConfig;
  assert.equal(config.metadata.name, 'osm-mesh-config');
  assert.equal(config.spec.traffic.enableEgress, false);
  assert.equal(config.spec.traffic.enablePermissiveTrafficPolicyMode, true);
  assert.equal(config.spec.observability.enableDebugServer, true);
  assert.equal(config.spec.sidecar.initContainerImage, 'openservicemesh/init:latest-main');
  assert.equal(config.spec.certificate.certKeyBitSize, 2048);
  assert.equal(config.spec.sidecar.tlsMinProtocolVersion, 'TLSv1_2');
});
