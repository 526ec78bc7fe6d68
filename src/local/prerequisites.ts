/**
 * What `osm up` needs from the host before it creates anything: root (network namespaces,
 * veth pairs, iptables), the `ip` command from iproute2, `iptables-restore` and `iptables`, and
 * a kernel that offers the nat table. Each missing piece is named with how to get it, so the
 * user fixes everything in one go instead of one error at a time.
 */
import { execFile } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';

/** One unmet requirement: what is missing and the command or step that provides it. */
export interface MissingPrerequisite {
  readonly what: string;
  readonly fix: string;
}

/** How the host is probed; injected so the checks are tested without changing the machine. */
export interface HostProbe {
  uid(): number;
  /** The full path of an executable on PATH, or undefined. */
  which(command: string): Promise<string | undefined>;
  /** Whether `iptables -t nat -S` works here (the nat table exists in this kernel). */
  natTableWorks(): Promise<boolean>;
}

const COMMANDS: ReadonlyArray<{ readonly command: string; readonly pkg: string }> = [
  { command: 'ip', pkg: 'iproute2' },
  { command: 'iptables', pkg: 'iptables' },
  { command: 'iptables-restore', pkg: 'iptables' },
];

/** Every unmet requirement (empty when `osm up` can run). */
export async function missingPrerequisites(probe: HostProbe): Promise<MissingPrerequisite[]> {
  const missing: MissingPrerequisite[] = [];
  if (probe.uid() !== 0) missing.push({ what: 'root privileges (network namespaces, veth links and iptables rules need them)', fix: 'run `sudo osm up ...`' });
  const packages = new Set<string>();
  for (const { command, pkg } of COMMANDS) {
    if ((await probe.which(command)) === undefined) {
      missing.push({ what: `the \`${command}\` command`, fix: `apt-get install ${pkg}` });
      packages.add(pkg);
    }
  }
  // Only meaningful once iptables exists and we are root; otherwise the fixes above come first.
  if (missing.length === 0 && !(await probe.natTableWorks())) {
    missing.push({ what: 'the iptables nat table in this kernel', fix: 'load it with `modprobe iptable_nat` (or `nf_tables` for iptables-nft)' });
  }
  return missing;
}

/** The report `osm up` prints when something is missing. */
export function describeMissing(missing: readonly MissingPrerequisite[]): string {
  const lines = missing.map((m) => `  - ${m.what}: ${m.fix}`);
  const packages = [...new Set(missing.flatMap((m) => /^apt-get install (\S+)$/.exec(m.fix)?.[1] ?? []))];
  if (packages.length > 1) lines.push(`  (all packages at once: apt-get update && apt-get install ${packages.join(' ')})`);
  return `osm up cannot start on this host:\n${lines.join('\n')}`;
}

/** The real host. */
export const systemProbe: HostProbe = {
  uid: () => process.getuid?.() ?? -1,
  async which(command) {
    for (const dir of (process.env.PATH ?? '').split(delimiter)) {
      const candidate = join(dir, command);
      try {
        await access(candidate, constants.X_OK);
        return candidate;
      } catch {
        // Not in this directory.
      }
    }
    return undefined;
  },
  natTableWorks: () => new Promise((resolve) => execFile('iptables', ['-t', 'nat', '-S'], (error) => resolve(error === null))),
};
