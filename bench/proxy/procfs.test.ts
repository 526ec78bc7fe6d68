import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseProcStat, parseProcStatus, parseSystemStat, readProcessMemory } from './procfs.js';

test('stat fields are counted from the last ")" so a command name with spaces and ")" cannot shift them', () => {
  // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
  const line = '4242 (node) (x) y) S 1 4242 4242 0 -1 4194304 100 0 0 0 1234 567 89 10 20 0 11 0 1038884 3133440 418\n';
  assert.deepEqual(parseProcStat(line), { utimeTicks: 1234, stimeTicks: 567, childrenTicks: 99 });
});

test('a truncated stat line is an error naming the field', () => {
  assert.throws(() => parseProcStat('4242 (node) S 1 4242'), /field 14 is not an integer/);
});

test('this process: its stat parses and its CPU time is not negative', () => {
  const cpu = parseProcStat(readFileSync('/proc/self/stat', 'utf8'));
  assert.ok(cpu.utimeTicks >= 0 && cpu.stimeTicks >= 0 && cpu.childrenTicks >= 0);
});

test('VmRSS and VmHWM in KiB', () => {
  const status = 'Name:\thaproxy\nVmPeak:\t  40000 kB\nVmHWM:\t   23552 kB\nVmRSS:\t   20480 kB\nThreads:\t1\n';
  assert.deepEqual(parseProcStatus(status), { vmRssKiB: 20480, vmHwmKiB: 23552 });
  assert.throws(() => parseProcStatus('Name:\tkthreadd\n'), /no VmRSS line/);
});

test('the peak resident size of a live process is at least its current size', () => {
  const mem = readProcessMemory(process.pid);
  assert.ok(mem.vmRssKiB > 0);
  assert.ok(mem.vmHwmKiB >= mem.vmRssKiB);
});

test('the aggregate cpu line: tasks, interrupts and steal; guest time is not counted twice', () => {
  const stat = 'cpu  100 5 40 9000 3 2 7 11 50 0\ncpu0 50 2 20 4500 1 1 3 5 25 0\nintr 123\n';
  assert.deepEqual(parseSystemStat(stat), { taskTicks: 145, irqTicks: 9, stealTicks: 11 });
  assert.throws(() => parseSystemStat('cpu0 1 2 3\n'), /no aggregate "cpu " line/);
});
