/**
 * Workload identities: a ServiceAccount, written `namespace/name` inside osm-ts and as the
 * principal `<sa>.<ns>.<trust-domain>` on certificates and in RBAC.
 */

/** A ServiceAccount as `namespace/name`. */
export type Identity = string & { readonly __brand: 'Identity' };

/** A Service as `namespace/name`. */
export type ServiceKey = string & { readonly __brand: 'ServiceKey' };

export function identityOf(namespace: string, serviceAccount: string): Identity {
  return `${namespace}/${serviceAccount}` as Identity;
}

export function serviceKeyOf(namespace: string, name: string): ServiceKey {
  return `${namespace}/${name}` as ServiceKey;
}

/** Splits `ns/name` (an Identity or ServiceKey) into its parts. */
export function splitKey(key: string): { namespace: string; name: string } {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

/** The principal OSM puts in certificates and RBAC: `<sa>.<ns>.<trust-domain>`. */
export function principalOf(identity: Identity, trustDomain: string): string {
  const { namespace, name } = splitKey(identity);
  return `${name}.${namespace}.${trustDomain}`;
}

/** The SPIFFE ID osm-ts also puts in certificates: `spiffe://<td>/ns/<ns>/sa/<sa>`. */
export function spiffeIdOf(identity: Identity, trustDomain: string): string {
  const { namespace, name } = splitKey(identity);
  return `spiffe://${trustDomain}/ns/${namespace}/sa/${name}`;
}

/** The ServiceAccount Kubernetes runs a pod as when its spec names none. */
export const DEFAULT_SERVICE_ACCOUNT = 'default';
