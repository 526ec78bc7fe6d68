import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeMissing, missingPrerequisites, systemProbe, type HostProbe } from './prerequisites.js';

const host = (over: Partial<HostProbe> & { commands?: string[] }): HostProbe => ({
  uid: over.uid ?? (() => 0),
  which: over.which ?? (async (c) => ((over.commands ?? ['ip', 'iptables', 'iptables-restore']).includes(c) ? `/usr/sbin/${c}` : undefined)),
  natTableWorks: over.natTableWorks ?? (async () => true),
});

test('a root host with iproute2, iptables and the nat table lacks nothing', async () => {
  assert.deepEqual(await missingPrerequisites(host({})), []);
});

test('everything missing is named at once, with the packages to install together', async () => {
  const missing = await missingPrerequisites(host({ uid: () => 1000, commands: [] }));
  assert.deepEqual(missing.map((m) => m.fix), ['run `sudo osm up ...`', 'apt-get install iproute2', 'apt-get install iptables', 'apt-get install iptables']);
  const text = describeMissing(missing);
  assert.match(text, /root privileges/);
  assert.match(text, /the `iptables-restore` command: apt-get install iptables/);
  assert.match(text, /all packages at once: apt-get update && apt-get install iproute2 iptables/);
});

test('a kernel without the nat table is reported once the commands are there', async () => {
  const missing = await missingPrerequisites(host({ natTableWorks: async () => false }));
  assert.equal(missing.length, 1);
  assert.match(missing[0]!.what, /nat table/);
});

test('the real probe finds a command that is on PATH and not one that is not', async () => {
  assert.ok(await systemProbe.which('node'));
  assert.equal(await systemProbe.which('osm-ts-no-such-command'), undefined);
});
