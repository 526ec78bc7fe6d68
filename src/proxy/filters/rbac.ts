/**
 * Envoy's RBAC evaluation, for the network filter (peer and destination port) and the HTTP
 * filter (also headers and path). ALLOW rules let through what some policy matches; DENY rules
 * refuse it; a filter without rules lets everything through. A policy matches when one of its
 * permissions and one of its principals match.
 */
import { matchesHeader, matchesString, type RbacPermission, type RbacPrincipal, type RbacRules } from '../config/index.js';
import type { PeerSans } from '../tls/index.js';

export interface RbacInput {
  /** The verified peer certificate's identities; `undefined` for a peer without one. */
  readonly peer: PeerSans | undefined;
  readonly destinationPort: number;
  /** Request headers by lower-case name (pseudo-headers `:method`, `:path`, `:authority` included); absent at L4. */
  readonly header?: (name: string) => string | undefined;
  /** The request path without its query; absent at L4. */
  readonly path?: string;
}

export interface RbacDecision {
  readonly allowed: boolean;
  /** The policy that matched (the one that allowed under ALLOW, or denied under DENY). */
  readonly policy: string | undefined;
}

const NO_RULES: RbacDecision = Object.freeze({ allowed: true, policy: undefined });

export function evaluateRbac(rules: RbacRules | undefined, input: RbacInput): RbacDecision {
  if (!rules) return NO_RULES;
  for (const p of rules.policies) {
    if (p.permissions.some((perm) => permissionMatches(perm, input)) && p.principals.some((pr) => principalMatches(pr, input))) {
      return { allowed: rules.action === 'allow', policy: p.name };
    }
  }
  return { allowed: rules.action === 'deny', policy: undefined };
}

function permissionMatches(p: RbacPermission, input: RbacInput): boolean {
  switch (p.kind) {
    case 'any':
      return true;
    case 'and':
      return p.rules.every((r) => permissionMatches(r, input));
    case 'or':
      return p.rules.some((r) => permissionMatches(r, input));
    case 'not':
      return !permissionMatches(p.rule, input);
    case 'destinationPort':
      return p.port === input.destinationPort;
    case 'header':
      // Envoy's network RBAC has no headers: a header permission never matches there.
      return input.header !== undefined && matchesHeader(p.header, input.header(p.header.name));
    case 'path':
      return input.path !== undefined && matchesString(p.path, input.path);
  }
}

function principalMatches(p: RbacPrincipal, input: RbacInput): boolean {
  switch (p.kind) {
    case 'any':
      return true;
    case 'and':
      return p.ids.every((r) => principalMatches(r, input));
    case 'or':
      return p.ids.some((r) => principalMatches(r, input));
    case 'not':
      return !principalMatches(p.id, input);
    case 'header':
      return input.header !== undefined && matchesHeader(p.header, input.header(p.header.name));
    case 'authenticated':
      return authenticated(p.principalName, input.peer);
  }
}

/** Envoy: URI SANs, then DNS SANs, and the subject only when the certificate has neither. */
function authenticated(name: Parameters<typeof matchesString>[0] | undefined, peer: PeerSans | undefined): boolean {
  if (!peer) return false;
  if (!name) return true;
  if (peer.uri.some((v) => matchesString(name, v)) || peer.dns.some((v) => matchesString(name, v))) return true;
  return peer.uri.length === 0 && peer.dns.length === 0 && matchesString(name, peer.subject);
}
