// Checks the scripts against the real iptables-restore, inside a throwaway network namespace so
// nothing touches the machine's own tables. Needs root, iptables and `ip netns`; skipped otherwise.
// The rendering itself is covered, without root, by rules.test.ts.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { NO_EXCLUSIONS } from './exclusions.js';
import { cleanupScript, restoreScript, ruleSpec } from './restore.js';
import { interceptionRules, OSM_CHAINS, OSM_PORTS, OSM_PROXY_UID, rulesIn, type Chain } from './rules.js';

function skipReason(): string | undefined {
  if (process.platform !== 'linux') return 'iptables is Linux only';
  if (process.getuid?.() !== 0) return 'needs root to create a network namespace';
  for (const [tool, flag] of [['iptables-restore', '--version'], ['ip', '-V']] as const) {
    const probe = spawnSync(tool, [flag], { stdio: 'ignore' });
    if (probe.error || probe.status !== 0) return `needs ${tool} (Debian: iptables, iproute2)`;
  }
  return undefined;
}

describe('scripts under iptables-restore in a network namespace', { skip: skipReason() }, () => {
  const netns = `osm-ts-iptables-${process.pid}`;
  const rules = interceptionRules({
    proxyUid: OSM_PROXY_UID,
    ports: OSM_PORTS,
    exclusions: {
      ...NO_EXCLUSIONS,
      inboundPorts: [9000],
      outboundPorts: Array.from({ length: 16 }, (_, i) => 8000 + i),
      outboundIPRanges: ['169.254.169.254/32'],
      outboundIPRangeInclusions: ['10.96.0.0/12'],
      networkInterfaces: ['eth1', 'veth+'],
    },
    localProxyMode: { mode: 'PodIP', podIP: '10.244.1.7' },
  });

  /** Runs a command in the namespace; throws with its stderr if it fails. */
  const inNetns = (argv: string[], input?: string): string => {
    const r = spawnSync('ip', ['netns', 'exec', netns, ...argv], { input, encoding: 'utf8', timeout: 10_000 });
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`${argv.join(' ')} exited ${r.status}: ${r.stderr}`);
    return r.stdout;
  };
  /** The chain's rules as `iptables -S` prints them, without the `-A <chain> ` prefix. */
  const liveSpecs = (chain: Chain): string[] =>
    inNetns(['iptables', '-t', 'nat', '-S', chain])
      .split('\n')
      .filter((line) => line.startsWith(`-A ${chain} `))
      .map((line) => line.slice(`-A ${chain} `.length));
  const chainsWith = (): string[] =>
    inNetns(['iptables', '-t', 'nat', '-S']).split('\n').filter((l) => l.startsWith('-N ')).map((l) => l.slice(3));

  before(() => {
    const r = spawnSync('ip', ['netns', 'add', netns], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`ip netns add ${netns}: ${r.stderr}`);
  });
  // Runs even when `before` or a test fails; the namespace's tables go with it.
  after(() => {
    spawnSync('ip', ['netns', 'delete', netns], { stdio: 'ignore' });
  });

  test('iptables-restore --test accepts the install script', () => {
    inNetns(['iptables-restore', '--noflush', '--test'], restoreScript(rules));
    assert.deepEqual(chainsWith(), [], '--test must change nothing');
  });

  test('installed, each chain reads back exactly as rendered; cleanup leaves the table as it found it', () => {
    inNetns(['iptables-restore', '--noflush'], restoreScript(rules));
    assert.deepEqual(chainsWith(), [...OSM_CHAINS]);
    for (const chain of [...OSM_CHAINS, 'PREROUTING', 'OUTPUT'] as const) {
      assert.deepEqual(liveSpecs(chain), rulesIn(rules, chain).map(ruleSpec), chain);
    }
    inNetns(['iptables-restore', '--noflush'], cleanupScript(rules));
    assert.deepEqual(chainsWith(), []);
    assert.deepEqual(liveSpecs('PREROUTING'), []);
    assert.deepEqual(liveSpecs('OUTPUT'), []);
  });

  test('cleanup of rules that are not installed fails as a whole', () => {
    assert.throws(() => inNetns(['iptables-restore', '--noflush'], cleanupScript(rules)), /exited/);
  });
});
