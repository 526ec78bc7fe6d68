/**
 * The one place osm-ts imports Envoy's protobuf types from, and the few operations on them:
 * type URLs, packing into and out of `google.protobuf.Any`, binary and JSON encoding.
 *
 * The types are generated at build time (scripts/gen-protos.js, protobuf-es v2) from the protos
 * bundled in @grpc/grpc-js-xds; `envoy-types.ts` lists the ones we use. Build messages with
 * `create(ListenerSchema, { ... })`.
 *
 * Determinism (STYLE.md section 6): `encode` writes fields in field-number order, list items in
 * list order, and map entries in a canonical key order, so the same message always gives the
 * same bytes and the same version hash. protobuf-es itself writes map entries in object key
 * order (insertion order, integer-like keys first), so `encode` puts unsorted maps into order
 * on a copy; producers should still insert map keys sorted, which keeps `encode` on its fast
 * path (no copy). Repeated fields are never reordered: their order is the producer's job.
 * An `Any` carries already-encoded bytes, so pack with `packAny` (which uses `encode`), never
 * with protobuf-es's `anyPack`.
 */
import {
  clone,
  create,
  createRegistry,
  fromBinary,
  fromJson,
  toBinary,
  toJson,
  type DescMessage,
  type JsonValue,
  type MessageShape,
  type Registry,
} from '@bufbuild/protobuf';
import { isReflectMessage, reflect, type ReflectMap, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { AnySchema, type Any } from '@bufbuild/protobuf/wkt';
import { generatedFiles } from '../gen/files.js';
import {
  ClusterLoadAssignmentSchema,
  ClusterSchema,
  ListenerSchema,
  RouteConfigurationSchema,
  SecretSchema,
} from './envoy-types.js';

export * from './envoy-types.js';
export { clone, create, equals, isMessage } from '@bufbuild/protobuf';
export type { DescMessage, JsonValue, MessageInitShape, MessageShape } from '@bufbuild/protobuf';

/** A `type.googleapis.com/<full message name>` string, as xDS and `Any` use it. */
export type TypeUrl = string & { readonly __brand: 'TypeUrl' };

const TYPE_URL_PREFIX = 'type.googleapis.com/';

/** The type URL of a message type, e.g. `type.googleapis.com/envoy.config.listener.v3.Listener`. */
export function typeUrl(schema: DescMessage): TypeUrl {
  return `${TYPE_URL_PREFIX}${schema.typeName}` as TypeUrl;
}

/** The type URLs of the five resource types our ADS server serves (xDS protocol, "Resource types"). */
export const ResourceTypeUrl = Object.freeze({
  listener: typeUrl(ListenerSchema),
  routeConfiguration: typeUrl(RouteConfigurationSchema),
  cluster: typeUrl(ClusterSchema),
  clusterLoadAssignment: typeUrl(ClusterLoadAssignmentSchema),
  secret: typeUrl(SecretSchema),
});

/**
 * Every generated message, enum and extension, for resolving `Any` by type URL and for JSON.
 * Built once at import; it holds only descriptors, no state.
 */
export const envoyRegistry: Registry = createRegistry(...generatedFiles);

/** Serialises `message` deterministically (see the file comment). Never mutates `message`. */
export function encode<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Uint8Array {
  if (hasCanonicalMaps(reflect(schema, message, false))) return toBinary(schema, message);
  const copy = clone(schema, message);
  sortMaps(reflect(schema, copy));
  return toBinary(schema, copy);
}

/**
 * Parses `bytes` as `schema`. Throws on malformed input (the error names the field); fields
 * unknown to our protos are kept and re-encoded unchanged.
 */
export function decode<Desc extends DescMessage>(schema: Desc, bytes: Uint8Array): MessageShape<Desc> {
  return fromBinary(schema, bytes);
}

/** Packs `message` into an `Any` with its type URL and deterministic bytes. */
export function packAny<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): Any {
  return create(AnySchema, { typeUrl: typeUrl(schema), value: encode(schema, message) });
}

/** The outcome of `unpackAny`: the message, or why it could not be had. */
export type UnpackResult<T> = { ok: true; message: T } | { ok: false; reason: string };

/** Unpacks an `Any` that must hold a `schema` message; a different type URL or bad bytes is an error. */
export function unpackAny<Desc extends DescMessage>(any: Any, schema: Desc): UnpackResult<MessageShape<Desc>> {
  const want = typeUrl(schema);
  if (any.typeUrl !== want) return { ok: false, reason: `expected ${want}, got ${any.typeUrl || '(empty type URL)'}` };
  try {
    return { ok: true, message: fromBinary(schema, any.value) };
  } catch (err) {
    return { ok: false, reason: `malformed ${schema.typeName}: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Proto3 JSON for `message` (Envoy's JSON form; `Any` resolved through `envoyRegistry`). */
export function encodeJson<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>): JsonValue {
  return toJson(schema, message, { registry: envoyRegistry });
}

/** Parses proto3 JSON (e.g. an Envoy config dump); throws on unknown fields or bad values. */
export function decodeJson<Desc extends DescMessage>(schema: Desc, json: JsonValue): MessageShape<Desc> {
  return fromJson(schema, json, { registry: envoyRegistry });
}

// Map entry order. JavaScript objects list integer-like keys first, in numeric order, and the
// rest in insertion order; so the canonical order is that one with the rest sorted by code unit.
// It is a function of the keys alone, which is all determinism needs.
const ARRAY_INDEX = /^(?:0|[1-9][0-9]{0,9})$/;

function isArrayIndex(key: string): boolean {
  return ARRAY_INDEX.test(key) && Number(key) < 2 ** 32 - 1;
}

function compareMapKeys(a: string, b: string): number {
  const ai = isArrayIndex(a);
  const bi = isArrayIndex(b);
  if (ai && bi) return Number(a) - Number(b);
  if (ai !== bi) return ai ? -1 : 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function hasSortedKeys(map: ReflectMap): boolean {
  let previous: string | undefined;
  for (const key of map.keys()) {
    const current = String(key);
    if (previous !== undefined && compareMapKeys(previous, current) > 0) return false;
    previous = current;
  }
  return true;
}

/** True when every map in the message tree already iterates in canonical order. */
function hasCanonicalMaps(message: ReflectMessage): boolean {
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    if (field.fieldKind === 'message') {
      if (!hasCanonicalMaps(message.get(field))) return false;
    } else if (field.fieldKind === 'list' && field.listKind === 'message') {
      for (const item of message.get(field)) if (isReflectMessage(item) && !hasCanonicalMaps(item)) return false;
    } else if (field.fieldKind === 'map') {
      const map = message.get(field);
      if (!hasSortedKeys(map)) return false;
      for (const value of map.values()) if (isReflectMessage(value) && !hasCanonicalMaps(value)) return false;
    }
  }
  return true;
}

/**
 * Rewrites every map in the tree in canonical order. Each child is set back on its parent
 * because protobuf-es converts some fields on read (a Struct field is a JSON object locally).
 */
function sortMaps(message: ReflectMessage): void {
  for (const field of message.fields) {
    if (!message.isSet(field)) continue;
    if (field.fieldKind === 'message') {
      const child = message.get(field);
      sortMaps(child);
      message.set(field, child);
    } else if (field.fieldKind === 'list' && field.listKind === 'message') {
      const list = message.get(field);
      for (const [index, item] of list.entries()) {
        if (!isReflectMessage(item)) continue;
        sortMaps(item);
        list.set(index, item);
      }
    } else if (field.fieldKind === 'map') {
      const map = message.get(field);
      const entries = [...map.entries()].sort(([a], [b]) => compareMapKeys(String(a), String(b)));
      map.clear();
      for (const [key, value] of entries) {
        if (isReflectMessage(value)) sortMaps(value);
        map.set(key, value);
      }
    }
  }
}
