/**
 * Small builders every generator shares: addresses, the ADS config source, typed filter
 * configs, durations and the principal forms RBAC and SAN checks use.
 */
import { principalOf, spiffeIdOf, type Identity } from '../catalog/index.js';
import {
  ApiVersion,
  create,
  durationFromMs,
  packAny,
  type Address,
  type ConfigSource,
  type DescMessage,
  type Duration,
  type MessageShape,
  AddressSchema,
  ConfigSourceSchema,
} from './proto.js';

/** An IP (or host) and port as an Envoy Address. */
export function socketAddress(address: string, port: number): Address {
  return create(AddressSchema, { address: { case: 'socketAddress', value: { address, portSpecifier: { case: 'portValue', value: port } } } });
}

/** Resources that come over the same ADS stream (Envoy's `ads: {}`), API v3. */
export function adsConfigSource(): ConfigSource {
  return create(ConfigSourceSchema, { configSourceSpecifier: { case: 'ads', value: {} }, resourceApiVersion: ApiVersion.V3 });
}

/** A `{ name, typed_config }` pair as Envoy's filters and transport sockets take it. */
export function typedConfig<Desc extends DescMessage>(name: string, schema: Desc, message: MessageShape<Desc>) {
  return { name, configType: { case: 'typedConfig' as const, value: packAny(schema, message) } };
}

export function duration(ms: number): Duration {
  return durationFromMs(ms);
}

/** What a certificate can say about its identity, preferred form first: the SPIFFE ID, then the DNS principal. */
export function principalNames(identity: Identity, trustDomain: string): [string, string] {
  return [spiffeIdOf(identity, trustDomain), principalOf(identity, trustDomain)];
}

/** The largest value of Envoy's uint32 limits: "no limit", as OSM defaults circuit breakers. */
export const UINT32_MAX = 4294967295;

/** Sorts by a string key, for lists whose order means nothing (STYLE.md section 6). */
export function byKey<T>(key: (item: T) => string): (a: T, b: T) => number {
  return (a, b) => {
    const ka = key(a);
    const kb = key(b);
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  };
}
