#!/usr/bin/env node
// Generates TypeScript for the Envoy xDS v3 API into src/gen/ (gitignored build output), from the
// .proto files that ship inside the npm package @grpc/grpc-js-xds (its deps/ folder carries
// envoyproxy/data-plane-api, cncf/xds, googleapis and protoc-gen-validate). `npm run build` runs
// this before tsc. Nothing is downloaded: buf's compiler comes from the @bufbuild/buf npm package
// and the code generator is @bufbuild/protoc-gen-es (protobuf-es v2), pinned with @bufbuild/protobuf
// to 2.13.0 because 2.14 and later require Node 22.
//
// Only the files in ROOTS and their imports are generated (buf's include_imports); the
// well-known types (google/protobuf/*) are not generated because @bufbuild/protobuf/wkt has them.
// We emit `target=ts` and let tsc compile it with the rest of src/: measured at about one
// second more tsc time than `js+dts`, and it keeps one build path (tsc emits every .js in dist/).
//
// Skips work when src/gen/ was generated from the same inputs (this script, the package
// versions), so incremental builds stay fast; `--force` regenerates anyway.
//
// Usage: node scripts/gen-protos.js [--force]
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const outDir = join(root, 'src', 'gen');
const stampFile = join(outDir, '.stamp.json');

/** The .proto files our mesh uses (reference/xds.md section 4), relative to deps/envoy-api. */
const ROOTS = [
  // Resources served over ADS.
  'envoy/config/listener/v3/listener.proto',
  'envoy/config/route/v3/route.proto',
  'envoy/config/cluster/v3/cluster.proto',
  'envoy/config/endpoint/v3/endpoint.proto',
  'envoy/extensions/transport_sockets/tls/v3/secret.proto',
  // Typed configs carried in Any fields of those resources.
  'envoy/extensions/transport_sockets/tls/v3/tls.proto',
  'envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.proto',
  'envoy/extensions/filters/http/router/v3/router.proto',
  'envoy/extensions/filters/http/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/rbac/v3/rbac.proto',
  'envoy/extensions/filters/network/tcp_proxy/v3/tcp_proxy.proto',
  'envoy/extensions/filters/listener/original_dst/v3/original_dst.proto',
  'envoy/extensions/filters/listener/tls_inspector/v3/tls_inspector.proto',
  'envoy/extensions/filters/listener/http_inspector/v3/http_inspector.proto',
  'envoy/extensions/filters/http/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/network/local_ratelimit/v3/local_rate_limit.proto',
  'envoy/extensions/filters/http/health_check/v3/health_check.proto',
  'envoy/config/trace/v3/zipkin.proto',
  'envoy/extensions/access_loggers/file/v3/file.proto',
  'envoy/extensions/access_loggers/stream/v3/stream.proto',
  'envoy/extensions/upstreams/http/v3/http_protocol_options.proto',
  'envoy/extensions/clusters/aggregate/v3/cluster.proto',
  'envoy/extensions/load_balancing_policies/round_robin/v3/round_robin.proto',
  'envoy/extensions/load_balancing_policies/least_request/v3/least_request.proto',
  // Transport, bootstrap and status.
  'envoy/service/discovery/v3/ads.proto',
  'envoy/service/discovery/v3/discovery.proto',
  'envoy/config/bootstrap/v3/bootstrap.proto',
  'envoy/service/status/v3/csds.proto',
];

// Packages are looked up in our own node_modules, not through require.resolve: some (like
// @bufbuild/protobuf) do not export their package.json.
function packageDir(name) {
  const dir = join(root, 'node_modules', name);
  if (!existsSync(join(dir, 'package.json'))) throw new Error(`gen-protos: ${name} is not installed; run npm ci`);
  return dir;
}

function versionOf(name) {
  return JSON.parse(readFileSync(join(packageDir(name), 'package.json'), 'utf8')).version;
}

// The validate.proto bundled with grpc-js-xds 1.14.1 predates StringRules.ignore_empty, which
// envoy/config/core/v3/protocol.proto already uses; protobufjs ignores unknown option fields
// but buf's compiler rejects them. Add the field with upstream's number (26, as in
// bufbuild/protoc-gen-validate validate/validate.proto) so the option decodes as upstream
// meant. A newer bundle that has the field is used unchanged.
function patchValidateProto(text) {
  if (/\bignore_empty\s*=\s*26\b/.test(text)) return text;
  const anchor = /(optional bool strict = 25 \[default = true\];)(\r?\n)/;
  if (!anchor.test(text)) throw new Error('gen-protos: validate.proto changed shape; update patchValidateProto');
  return text.replace(anchor, '$1$2  optional bool ignore_empty = 26;$2');
}

function stampOf() {
  const script = readFileSync(new URL(import.meta.url), 'utf8');
  const versions = ['@grpc/grpc-js-xds', '@bufbuild/buf', '@bufbuild/protoc-gen-es', '@bufbuild/protobuf'].map(
    (name) => `${name}@${versionOf(name)}`,
  );
  return JSON.stringify({ versions, script: createHash('sha256').update(script).digest('hex') });
}

function listGenerated(dir, prefix = '') {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...listGenerated(join(dir, entry.name), `${prefix}${entry.name}/`));
    else if (entry.name.endsWith('_pb.ts')) out.push(`${prefix}${entry.name}`);
  }
  return out.sort();
}

// src/gen/files.ts lists every generated file descriptor, so xds/proto.ts can build one registry
// (for Any and JSON) without naming a hundred modules by hand.
function writeFileIndex() {
  const files = listGenerated(outDir);
  const imports = [];
  const names = [];
  for (const file of files) {
    const text = readFileSync(join(outDir, file), 'utf8');
    const name = /^export const (file_[A-Za-z0-9_]+): GenFile/m.exec(text)?.[1];
    if (!name) throw new Error(`gen-protos: no file descriptor export in ${file}`);
    imports.push(`import { ${name} } from './${file.replace(/\.ts$/, '.js')}';`);
    names.push(`  ${name},`);
  }
  const body = [
    '// @generated by scripts/gen-protos.js: every file descriptor in src/gen/.',
    '/* eslint-disable */',
    "import type { GenFile } from '@bufbuild/protobuf/codegenv2';",
    ...imports,
    '',
    'export const generatedFiles: readonly GenFile[] = [',
    ...names,
    '];',
    '',
  ];
  writeFileSync(join(outDir, 'files.ts'), body.join('\n'));
  return files.length;
}

function generate() {
  const deps = join(packageDir('@grpc/grpc-js-xds'), 'deps');
  const buf = join(packageDir('@bufbuild/buf'), 'bin', 'buf');
  const plugin = join(packageDir('@bufbuild/protoc-gen-es'), 'bin', 'protoc-gen-es');

  // A throw-away buf workspace: symlinks to the bundled modules plus the patched validate.proto
  // (buf follows symlinks by default). Keeps node_modules untouched.
  const workspace = mkdtempSync(join(tmpdir(), 'osm-gen-protos-'));
  try {
    for (const module of ['envoy-api', 'xds', 'googleapis']) symlinkSync(join(deps, module), join(workspace, module));
    mkdirSync(join(workspace, 'pgv', 'validate'), { recursive: true });
    const validate = readFileSync(join(deps, 'protoc-gen-validate', 'validate', 'validate.proto'), 'utf8');
    writeFileSync(join(workspace, 'pgv', 'validate', 'validate.proto'), patchValidateProto(validate));

    const config = {
      version: 'v2',
      modules: [{ path: 'envoy-api' }, { path: 'xds' }, { path: 'googleapis' }, { path: 'pgv' }],
    };
    const template = {
      version: 'v2',
      plugins: [
        {
          local: [process.execPath, plugin],
          out: outDir,
          opt: ['target=ts', 'import_extension=js'],
          include_imports: true,
          // One plugin run over all files: faster than one per directory, same output.
          strategy: 'all',
        },
      ],
    };
    rmSync(outDir, { recursive: true, force: true });
    const args = ['generate', '.', '--config', JSON.stringify(config), '--template', JSON.stringify(template)];
    for (const file of ROOTS) args.push('--path', `envoy-api/${file}`);
    const result = spawnSync(process.execPath, [buf, ...args], { cwd: workspace, stdio: 'inherit' });
    if (result.status !== 0) throw new Error(`gen-protos: buf generate exited with ${result.status ?? result.signal}`);
  } finally {
    rmSync(workspace, { recursive: true, force: true });
  }
}

const force = process.argv.includes('--force');
const stamp = stampOf();
const upToDate = existsSync(join(outDir, 'files.ts')) && existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp;
if (!force && upToDate) {
  console.log('gen-protos: src/gen is up to date');
} else {
  const started = process.hrtime.bigint();
  generate();
  const count = writeFileIndex();
  writeFileSync(stampFile, stamp);
  const ms = Number((process.hrtime.bigint() - started) / 1_000_000n);
  console.log(`gen-protos: ${count} files in src/gen (${ms} ms)`);
}
