/**
 * RBAC policy sets (envoy.config.rbac.v3.RBAC) compiled into our rule trees, shared by the
 * network and HTTP RBAC filters and their per-route overrides.
 *
 * Supported: actions ALLOW and DENY; permissions any, and_rules, or_rules, not_rule, header,
 * url_path (path matcher), destination_port; principals any, and_ids, or_ids, not_id,
 * authenticated (principal_name), header. Everything else (LOG, CEL conditions, metadata, IP
 * and filter-state rules, audit logging) is rejected: a policy the proxy cannot evaluate must
 * not be half-enforced.
 */
import {
  PermissionSchema,
  PolicySchema,
  PrincipalSchema,
  RBAC_Action,
  RBACSchema,
  type Permission,
  type Principal,
  type RBAC,
} from '../../xds/proto.js';
import { at, decodeHeaderMatcher, decodeStringMatcher, Issues, item, key, rejectUnsupported, snake } from './decode-common.js';
import type { RbacPermission, RbacPolicy, RbacPrincipal, RbacRules } from './model.js';

/** Compiles a policy set; `path` names the `rules` field it came from. */
export function decodeRbacRules(rules: RBAC, path: string, issues: Issues): RbacRules | undefined {
  rejectUnsupported(RBACSchema, rules, path, ['action', 'policies'], issues);
  let action: RbacRules['action'] | undefined;
  if (rules.action === RBAC_Action.ALLOW) action = 'allow';
  else if (rules.action === RBAC_Action.DENY) action = 'deny';
  else issues.add(at(path, 'action'), `${RBAC_Action[rules.action] ?? rules.action} is not supported by the sidecar (ALLOW or DENY)`);
  const policies: RbacPolicy[] = [];
  for (const name of Object.keys(rules.policies).sort()) {
    const policy = rules.policies[name];
    if (!policy) continue;
    const p = key(at(path, 'policies'), name);
    rejectUnsupported(PolicySchema, policy, p, ['permissions', 'principals'], issues);
    if (policy.permissions.length === 0) issues.add(at(p, 'permissions'), 'at least one permission is required');
    if (policy.principals.length === 0) issues.add(at(p, 'principals'), 'at least one principal is required');
    policies.push({
      name,
      permissions: compact(policy.permissions.map((x, i) => decodePermission(x, item(at(p, 'permissions'), i), issues))),
      principals: compact(policy.principals.map((x, i) => decodePrincipal(x, item(at(p, 'principals'), i), issues))),
    });
  }
  return action ? { action, policies } : undefined;
}

function compact<T>(items: ReadonlyArray<T | undefined>): T[] {
  return items.filter((x): x is T => x !== undefined);
}

function decodePermission(perm: Permission, path: string, issues: Issues): RbacPermission | undefined {
  const r = perm.rule;
  switch (r.case) {
    case 'any':
      return { kind: 'any' };
    case 'andRules':
    case 'orRules':
      return {
        kind: r.case === 'andRules' ? 'and' : 'or',
        rules: compact(r.value.rules.map((x, i) => decodePermission(x, at(path, `${snake(r.case)}.rules[${i}]`), issues))),
      };
    case 'notRule': {
      const rule = decodePermission(r.value, at(path, 'not_rule'), issues);
      return rule ? { kind: 'not', rule } : undefined;
    }
    case 'header': {
      const header = decodeHeaderMatcher(r.value, at(path, 'header'), issues);
      return header ? { kind: 'header', header } : undefined;
    }
    case 'urlPath': {
      if (r.value.rule.case !== 'path') {
        issues.add(at(path, 'url_path.path'), 'required');
        return undefined;
      }
      const match = decodeStringMatcher(r.value.rule.value, at(path, 'url_path.path'), issues);
      return match ? { kind: 'path', path: match } : undefined;
    }
    case 'destinationPort':
      return { kind: 'destinationPort', port: r.value };
    case undefined:
      issues.add(path, 'a permission needs a rule');
      return undefined;
    default:
      rejectUnsupported(PermissionSchema, perm, path, [], issues);
      return undefined;
  }
}

function decodePrincipal(principal: Principal, path: string, issues: Issues): RbacPrincipal | undefined {
  const id = principal.identifier;
  switch (id.case) {
    case 'any':
      return { kind: 'any' };
    case 'andIds':
    case 'orIds':
      return {
        kind: id.case === 'andIds' ? 'and' : 'or',
        ids: compact(id.value.ids.map((x, i) => decodePrincipal(x, at(path, `${snake(id.case)}.ids[${i}]`), issues))),
      };
    case 'notId': {
      const inner = decodePrincipal(id.value, at(path, 'not_id'), issues);
      return inner ? { kind: 'not', id: inner } : undefined;
    }
    case 'authenticated': {
      const name = id.value.principalName;
      // Without a name, any authenticated peer (one that presented a valid certificate) matches.
      const principalName = name ? decodeStringMatcher(name, at(path, 'authenticated.principal_name'), issues) : undefined;
      return { kind: 'authenticated', principalName };
    }
    case 'header': {
      const header = decodeHeaderMatcher(id.value, at(path, 'header'), issues);
      return header ? { kind: 'header', header } : undefined;
    }
    case undefined:
      issues.add(path, 'a principal needs an identifier');
      return undefined;
    default:
      rejectUnsupported(PrincipalSchema, principal, path, [], issues);
      return undefined;
  }
}
