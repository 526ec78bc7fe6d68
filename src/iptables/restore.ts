/**
 * `iptables-restore --noflush` scripts for the nat table: one that installs a rule set in one
 * transaction (as OSM's init container does, reference/osm.md 4.7) and its inverse for `osm down`.
 *
 * Each rule is written in the form `iptables -t nat -S` prints it back (`-m tcp`, `--to-ports`,
 * options in the kernel's order), so a reader can diff the live table against the script.
 */
import { type Chain, type InterceptionRules, type Negatable, type Rule, type RuleTarget } from './rules.js';

const not = <T>(m: Negatable<T>): string => (m.negated ? '! ' : '');

function renderTarget(target: RuleTarget): string {
  switch (target.kind) {
    case 'jump':
      return `-j ${target.chain}`;
    case 'RETURN':
      return '-j RETURN';
    case 'REDIRECT':
      return `-j REDIRECT --to-ports ${target.toPort}`;
    case 'DNAT':
      return `-j DNAT --to-destination ${target.toDestination}`;
  }
}

/** The rule's specification after the chain name, in iptables-save order. */
export function ruleSpec(rule: Rule): string {
  const m = rule.match;
  const parts: string[] = [];
  if (m.destination) parts.push(`${not(m.destination)}-d ${m.destination.value}`);
  if (m.inInterface !== undefined) parts.push(`-i ${m.inInterface}`);
  if (m.outInterface !== undefined) parts.push(`-o ${m.outInterface}`);
  if (m.protocol) parts.push(`-p ${m.protocol}`);
  if (m.destinationPort !== undefined) parts.push(`-m tcp --dport ${m.destinationPort}`);
  if (m.destinationPorts) parts.push(`-m multiport --dports ${m.destinationPorts.join(',')}`);
  if (m.ownerUid) parts.push(`-m owner ${not(m.ownerUid)}--uid-owner ${m.ownerUid.value}`);
  parts.push(renderTarget(rule.target));
  return parts.join(' ');
}

const isBuiltin = (chain: Chain): boolean => chain === 'PREROUTING' || chain === 'OUTPUT';

/**
 * The install script: declares (and, if they exist, empties) our chains, appends every rule,
 * commits. Feed it to `iptables-restore --noflush` so other chains and tables are kept. Running it
 * twice hooks PREROUTING and OUTPUT twice; run the cleanup script first when rules may be there.
 */
export function restoreScript(rules: InterceptionRules): string {
  return [
    '# osm-ts sidecar interception rules',
    '*nat',
    ...rules.chains.map((chain) => `:${chain} - [0:0]`),
    ...rules.rules.map((rule) => `-A ${rule.chain} ${ruleSpec(rule)}`),
    'COMMIT',
    '',
  ].join('\n');
}

/**
 * The inverse of `restoreScript` for the same rules: unhooks PREROUTING and OUTPUT (deleting
 * the exact rules installed, the PodIP DNAT included), then empties and deletes our chains
 * (emptied first, because deleting a chain another chain still jumps to fails). For
 * `iptables-restore --noflush`; it fails as a whole, changing nothing, if the rules are absent.
 */
export function cleanupScript(rules: InterceptionRules): string {
  const { chains } = rules;
  return [
    '# osm-ts sidecar interception cleanup',
    '*nat',
    ...rules.rules.filter((rule) => isBuiltin(rule.chain)).map((rule) => `-D ${rule.chain} ${ruleSpec(rule)}`),
    ...chains.map((chain) => `-F ${chain}`),
    ...chains.map((chain) => `-X ${chain}`),
    'COMMIT',
    '',
  ].join('\n');
}
