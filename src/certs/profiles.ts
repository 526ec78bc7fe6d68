/**
 * What each kind of mesh certificate contains (reference/osm.md 5.2, 5.11, 6.1): the workload
 * certificate served over SDS, the xDS server certificate, and a proxy's bootstrap (xDS
 * client) certificate, plus the proxy common name's format and parser. Pure functions.
 */
import { principalOf, spiffeIdOf, splitKey, type Identity } from '../catalog/index.js';
import { CLOCK_SKEW_MS, wholeSecond } from './ca.js';
import { CertError } from './errors.js';
import { isIpLiteral, type LeafTemplate, type Validity } from './x509.js';

/** When a certificate is issued and for how long, both in ms. */
export interface Lifetime {
  nowMs: number;
  validityMs: number;
}

/**
 * The validity window: notBefore set back by CLOCK_SKEW_MS for peers whose clocks lag,
 * notAfter `validityMs` after now; both rounded down to whole seconds as X.509 stores them.
 */
export function validityOf(lifetime: Lifetime): Validity {
  return {
    notBeforeMs: wholeSecond(lifetime.nowMs - CLOCK_SKEW_MS),
    notAfterMs: wholeSecond(lifetime.nowMs + lifetime.validityMs),
  };
}

/**
 * A workload (service) certificate: CN and DNS SAN the principal `<sa>.<ns>.<td>`, as OSM
 * (Envoy RBAC matches principals against the DNS SAN), plus the SPIFFE ID as a URI SAN;
 * usable as both TLS server and client, since every proxy is both.
 */
export function workloadTemplate(identity: Identity, trustDomain: string, lifetime: Lifetime): LeafTemplate {
  const principal = principalOf(identity, trustDomain);
  return {
    commonName: principal,
    dnsNames: [principal],
    uris: [spiffeIdOf(identity, trustDomain)],
    ipAddresses: [],
    extendedKeyUsages: ['serverAuth', 'clientAuth'],
    ...validityOf(lifetime),
  };
}

/** The xDS server's name, `ads.<td>`, which proxies' bootstrap configs expect. */
export function adsServerName(trustDomain: string): string {
  return `ads.${trustDomain}`;
}

/**
 * The xDS server certificate: CN and DNS SAN `ads.<td>`, plus `extraSans` (IP literals become
 * IP SANs, anything else DNS SANs, so `localhost` and `127.0.0.1` work for local runs).
 */
export function adsServerTemplate(trustDomain: string, lifetime: Lifetime, extraSans: readonly string[] = []): LeafTemplate {
  const name = adsServerName(trustDomain);
  const dnsNames = [name, ...extraSans.filter((s) => !isIpLiteral(s) && s !== name)];
  return {
    commonName: name,
    dnsNames: [...new Set(dnsNames)],
    uris: [],
    ipAddresses: [...new Set(extraSans.filter(isIpLiteral))],
    extendedKeyUsages: ['serverAuth'],
    ...validityOf(lifetime),
  };
}

/** Kinds of proxy a bootstrap certificate is for; OSM v1.2 issued only sidecars'. */
export type ProxyKind = 'sidecar';

/** The parts of a proxy bootstrap certificate's common name. */
export interface ProxyCommonName {
  /** The pod's `osm-proxy-uuid`. */
  uuid: string;
  kind: ProxyKind;
  serviceAccount: string;
  namespace: string;
  trustDomain: string;
}

/**
 * The bootstrap certificate's CN, `<uuid>.sidecar.<sa>.<ns>.<td>` (OSM's xDS client CN), which
 * the xDS server parses to learn the proxy's identity. Throws E6101 for a malformed uuid.
 */
export function proxyCommonNameOf(uuid: string, identity: Identity, trustDomain: string): string {
  const { namespace, name } = splitKey(identity);
  const cn = `${uuid}.sidecar.${name}.${namespace}.${trustDomain}`;
  if (!UUID.test(uuid)) throw new CertError('E6101', { cn, reason: `uuid ${JSON.stringify(uuid)} is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` });
  return cn;
}

/**
 * A proxy's bootstrap (xDS client) certificate: CN and DNS SAN the proxy common name, client
 * use only, so it cannot serve mesh traffic and its DNS SAN matches no RBAC principal.
 */
export function proxyBootstrapTemplate(uuid: string, identity: Identity, trustDomain: string, lifetime: Lifetime): LeafTemplate {
  const cn = proxyCommonNameOf(uuid, identity, trustDomain);
  return { commonName: cn, dnsNames: [cn], uris: [], ipAddresses: [], extendedKeyUsages: ['clientAuth'], ...validityOf(lifetime) };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
// Kubernetes: namespaces are DNS-1123 labels; ServiceAccount names DNS-1123 subdomains (dots allowed).
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Parses `<uuid>.<kind>.<sa>.<ns>.<td>`. With `trustDomain`, the CN must end in it, and the
 * service account may contain dots as Kubernetes allows; without it, the service account is
 * one label and the rest is the trust domain (OSM's parser did this, and misread dotted names).
 * Throws a CertError E6101 naming the part that is wrong.
 */
export function parseProxyCommonName(cn: string, trustDomain?: string): ProxyCommonName {
  const fail = (reason: string): never => {
    throw new CertError('E6101', { cn, reason });
  };
  let labels: string[];
  let td: string;
  if (trustDomain !== undefined) {
    if (!cn.endsWith(`.${trustDomain}`)) fail(`does not end in the trust domain .${trustDomain}`);
    labels = cn.slice(0, -(trustDomain.length + 1)).split('.');
    td = trustDomain;
    if (labels.length < 4) fail(`expected <uuid>.<kind>.<service-account>.<namespace>.${trustDomain}`);
  } else {
    labels = cn.split('.');
    if (labels.length < 5) fail('expected <uuid>.<kind>.<service-account>.<namespace>.<trust-domain>');
    td = labels.splice(4).join('.');
    if (td.split('.').some((l) => l === '')) fail(`trust domain ${JSON.stringify(td)} has an empty label`);
  }
  const [uuid = '', kind = '', ...rest] = labels;
  const namespace = rest.pop() ?? '';
  const serviceAccount = rest.join('.');
  if (!UUID.test(uuid)) fail(`uuid ${JSON.stringify(uuid)} is not of the form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`);
  if (kind !== 'sidecar') fail(`proxy kind ${JSON.stringify(kind)} is not "sidecar"`);
  if (!rest.every((l) => DNS_LABEL.test(l)) || serviceAccount.length > 253) {
    fail(`service account ${JSON.stringify(serviceAccount)} is not a DNS-1123 subdomain`);
  }
  if (!DNS_LABEL.test(namespace)) fail(`namespace ${JSON.stringify(namespace)} is not a DNS-1123 label`);
  return { uuid, kind: 'sidecar', serviceAccount, namespace, trustDomain: td };
}
