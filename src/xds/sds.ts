/**
 * SDS: the proxy's own certificate and key, the CA its inbound clients must chain to, and per
 * upstream service the CA plus the exact identities that service's servers must present.
 */
import type { Identity, ProxyPolicy } from '../catalog/index.js';
import { byKey, principalNames } from './common.js';
import type { GeneratorContext } from './context.js';
import { upstreamClustersOf } from './cds.js';
import { inboundRootSecretName, outboundRootSecretName, serviceCertSecretName } from './names.js';
import { create, SecretSchema, SubjectAltNameMatcher_SanType, type Secret } from './proto.js';

/** Certificate material for one proxy's secrets (PEM). */
export interface SecretMaterial {
  rootCertificatePem: string;
  workload: { certificateChainPem: string; privateKeyPem: string };
}

const NO_IDENTITY = 'none/no-workload-serves-this-service' as Identity;

const inline = (text: string) => ({ specifier: { case: 'inlineString' as const, value: text } });

/** The proxy's secrets, sorted by name. */
export function buildSecrets(policy: ProxyPolicy, ctx: GeneratorContext, material: SecretMaterial): Secret[] {
  const identity = policy.proxy.identity;
  const secrets: Secret[] = [
    create(SecretSchema, {
      name: serviceCertSecretName(identity),
      type: {
        case: 'tlsCertificate',
        value: { certificateChain: inline(material.workload.certificateChainPem), privateKey: inline(material.workload.privateKeyPem) },
      },
    }),
    create(SecretSchema, {
      name: inboundRootSecretName(identity),
      type: { case: 'validationContext', value: { trustedCa: inline(material.rootCertificatePem) } },
    }),
  ];
  const servers = new Map<string, Set<Identity>>();
  for (const upstream of upstreamClustersOf(policy).values()) {
    const name = outboundRootSecretName(upstream.port);
    const set = servers.get(name) ?? new Set<Identity>();
    for (const id of upstream.identities) set.add(id);
    servers.set(name, set);
  }
  for (const [name, identities] of servers) {
    // No identity backs the service: an empty SAN list would accept any mesh certificate.
    if (identities.size === 0) identities.add(NO_IDENTITY);
    const sans = [...identities].sort().flatMap((id) => {
      const [spiffe, dns] = principalNames(id, ctx.trustDomain);
      return [
        { sanType: SubjectAltNameMatcher_SanType.URI, matcher: { matchPattern: { case: 'exact' as const, value: spiffe } } },
        { sanType: SubjectAltNameMatcher_SanType.DNS, matcher: { matchPattern: { case: 'exact' as const, value: dns } } },
      ];
    });
    secrets.push(
      create(SecretSchema, {
        name,
        type: { case: 'validationContext', value: { trustedCa: inline(material.rootCertificatePem), matchTypedSubjectAltNames: sans } },
      }),
    );
  }
  return secrets.sort(byKey((s) => s.name));
}
