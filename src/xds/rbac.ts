/**
 * RBAC from the evaluator's routes: one ALLOW policy per inbound route, whose permission is the
 * route's match and whose principals are the identities it lists. Envoy allows a request when
 * any policy matches it, which is the union the evaluator computes (smi-decisions A16).
 */
import type { CompiledHttpMatch, Identity, InboundRoute } from '../catalog/index.js';
import { principalNames } from './common.js';
import type { GeneratorContext } from './context.js';
import {
  create,
  HeaderMatcherSchema,
  PermissionSchema,
  PrincipalSchema,
  RBAC_Action,
  RBACSchema,
  type HeaderMatcher,
  type Permission,
  type Principal,
  type Policy,
  PolicySchema,
  type RBAC,
} from './proto.js';

/** A header condition: the whole value must match the RE2 expression (A5). */
export function regexHeader(name: string, regex: string): HeaderMatcher {
  return create(HeaderMatcherSchema, { name, headerMatchSpecifier: { case: 'stringMatch', value: { matchPattern: { case: 'safeRegex', value: { regex } } } } });
}

/** An RE2 alternation that matches exactly one of the methods. */
export function methodsRegex(methods: ReadonlySet<string>): string {
  return [...methods].sort().join('|');
}

/** The conditions of a match as RBAC permission rules: path, method, authority and headers all hold. */
const ANY_PERMISSION = (): Permission => create(PermissionSchema, { rule: { case: 'any', value: true } });

function permissionOf(match: CompiledHttpMatch | undefined): Permission {
  if (!match) return ANY_PERMISSION();
  const rules: Permission[] = [];
  const header = (h: HeaderMatcher) => create(PermissionSchema, { rule: { case: 'header', value: h } });
  if (match.path) {
    rules.push(create(PermissionSchema, { rule: { case: 'urlPath', value: { rule: { case: 'path', value: { matchPattern: { case: 'safeRegex', value: { regex: match.path.source } } } } } } }));
  }
  if (match.methods) rules.push(header(regexHeader(':method', methodsRegex(match.methods))));
  if (match.authority) rules.push(header(regexHeader(':authority', match.authority.source)));
  for (const h of match.headers) rules.push(header(regexHeader(h.name, h.value.source)));
  if (rules.length === 0) return ANY_PERMISSION();
  return create(PermissionSchema, { rule: { case: 'andRules', value: { rules } } });
}

/** Principals for identities: each identity by its SPIFFE ID and by its DNS principal. */
export function principalsOf(identities: readonly Identity[] | 'any', ctx: GeneratorContext): Principal[] {
  if (identities === 'any') return [create(PrincipalSchema, { identifier: { case: 'any', value: true } })];
  return identities.flatMap((id) =>
    principalNames(id, ctx.trustDomain).map((name) =>
      create(PrincipalSchema, { identifier: { case: 'authenticated', value: { principalName: { matchPattern: { case: 'exact', value: name } } } } }),
    ),
  );
}

/** The policy name of a route: the match it stands for, or `any-request`. */
function policyName(index: number, route: InboundRoute): string {
  const m = route.match;
  const what = m ? `${m.group.namespace}/${m.group.name}#${m.name}` : 'any-request';
  return `${String(index).padStart(3, '0')}:${what}`;
}

/** The HTTP RBAC rules of an inbound port: no policy means nothing is allowed. */
export function httpRules(routes: readonly InboundRoute[], ctx: GeneratorContext): RBAC {
  const policies: Record<string, Policy> = {};
  routes.forEach((route, i) => {
    policies[policyName(i, route)] = create(PolicySchema, { permissions: [permissionOf(route.match)], principals: principalsOf(route.principals, ctx) });
  });
  return create(RBACSchema, { action: RBAC_Action.ALLOW, policies });
}

/** The connection-level rules: who may connect at all (TCP principals, or anyone some HTTP route lists). */
export function connectionRules(principals: readonly Identity[] | 'any', ctx: GeneratorContext): RBAC {
  const policies: Record<string, Policy> = {};
  if (principals === 'any' || principals.length > 0) {
    policies['allowed-principals'] = create(PolicySchema, { permissions: [ANY_PERMISSION()], principals: principalsOf(principals, ctx) });
  }
  return create(RBACSchema, { action: RBAC_Action.ALLOW, policies });
}

/** Everyone an HTTP port's routes list: who may open a connection to it. */
export function httpPrincipals(routes: readonly InboundRoute[]): readonly Identity[] | 'any' {
  if (routes.some((r) => r.principals === 'any')) return 'any';
  const all = new Set<Identity>();
  for (const r of routes) for (const p of r.principals as readonly Identity[]) all.add(p);
  return [...all].sort();
}
