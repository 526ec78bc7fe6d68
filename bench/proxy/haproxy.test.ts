/**
 * The haproxy configurations against a real haproxy (skipped when it is not installed;
 * scripts/setup.sh installs it): the pair carries HTTP and TCP to the app over mTLS, B refuses
 * a peer without a certificate or with another identity, and A refuses a B whose certificate
 * does not name the expected principal.
 */
import * as assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { appConfig, clientSideConfig, serverSideConfig, startHaproxy, type HaproxyPairAddresses } from './haproxy.js';
import { writePairPki, type PairPki } from './pki.js';
import { freePort, hasCommand, ProcessGroup, type Address } from './processes.js';

const skip = hasCommand('haproxy') ? false : 'haproxy is not installed (scripts/setup.sh installs it as root)';
const HOST = '127.0.0.1';
const BODY = Buffer.alloc(1024, 'b');

let dir: string;
let pki: PairPki;
let addr: HaproxyPairAddresses;
const processes = new ProcessGroup();

const at = async (): Promise<Address> => ({ host: HOST, port: await freePort(HOST) });

before(async () => {
  if (skip) return;
  dir = await mkdtemp(join(tmpdir(), 'osm-bench-haproxy-'));
  pki = await writePairPki(dir);
  addr = { clientHttp: await at(), clientTcp: await at(), serverHttp: await at(), serverTcp: await at(), upstream: await at(), tcpUpstream: await at() };
  await writeFile(join(dir, 'body.bin'), BODY);
  const start = (name: string, config: string, listens: Address[]) => startHaproxy(processes, { name, cpu: undefined, dir, config, listens });
  await start('app', appConfig([addr.upstream, addr.tcpUpstream], join(dir, 'body.bin')), [addr.upstream, addr.tcpUpstream]);
  await start('b', serverSideConfig(addr, pki), [addr.serverHttp, addr.serverTcp]);
  await start('a', clientSideConfig(addr, pki), [addr.clientHttp, addr.clientTcp]);
});

after(async () => {
  await processes.stopAll();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function get(entry: Address): Promise<{ status: number; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: entry.host, port: entry.port, path: '/', agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** One request over mTLS straight to B; the status line, or the error that ended the connection. */
function getOverTls(entry: Address, options: ConnectionOptions): Promise<string> {
  return new Promise((resolve) => {
    const socket = tlsConnect({ host: entry.host, port: entry.port, ca: options.ca, ...options, checkServerIdentity: (_host, cert) => checkServerIdentity(pki.server.principal, cert) });
    let data = '';
    socket.on('secureConnect', () => socket.write('GET / HTTP/1.1\r\nHost: app.bench\r\nConnection: close\r\n\r\n'));
    socket.on('data', (c: Buffer) => (data += c.toString('latin1')));
    socket.on('error', (err) => resolve(`error: ${err.message}`));
    socket.on('close', () => resolve(data === '' ? 'closed without a response' : (data.split('\r\n')[0] ?? '')));
  });
}

test('HTTP through the pair reaches the app', { skip }, async () => {
  const res = await get(addr.clientHttp);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, BODY);
});

test('TCP through the pair reaches the app', { skip }, async () => {
  const res = await get(addr.clientTcp);
  assert.equal(res.status, 200);
  assert.deepEqual(res.body, BODY);
});

test('B answers a peer with the client identity', { skip }, async () => {
  const client = await readFile(pki.client.certAndKeyFile, 'utf8');
  assert.equal(await getOverTls(addr.serverHttp, { ca: await readFile(pki.caFile, 'utf8'), cert: client, key: client }), 'HTTP/1.1 200 OK');
});

test('B refuses a peer without a client certificate', { skip }, async () => {
  const outcome = await getOverTls(addr.serverHttp, { ca: await readFile(pki.caFile, 'utf8') });
  assert.doesNotMatch(outcome, /^HTTP\/1\.1 200/);
});

test('B refuses a peer of another identity from the same CA: 403 on HTTP, no bytes on TCP', { skip }, async () => {
  const other = await readFile(pki.server.certAndKeyFile, 'utf8');
  const ca = await readFile(pki.caFile, 'utf8');
  assert.equal(await getOverTls(addr.serverHttp, { ca, cert: other, key: other }), 'HTTP/1.1 403 Forbidden');
  assert.equal(await getOverTls(addr.serverTcp, { ca, cert: other, key: other }), 'closed without a response');
});

test('A refuses a B whose certificate does not name the expected principal', { skip }, async () => {
  const wrong = { ...addr, clientHttp: await at(), clientTcp: await at() };
  const expectingSomeoneElse: PairPki = { ...pki, server: { ...pki.server, principal: 'someone-else.bench.cluster.local' } };
  await startHaproxy(processes, { name: 'a-wrong', cpu: undefined, dir, config: clientSideConfig(wrong, expectingSomeoneElse), listens: [wrong.clientHttp] });
  assert.equal((await get(wrong.clientHttp)).status, 503);
});
