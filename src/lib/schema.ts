/**
 * The schema wrapper: the one place that knows which schema library we use.
 *
 * A schema built here is three things at once: the TypeScript type (`Infer`), the runtime
 * decoder (`decode`, with our own precise messages), and the CRD `openAPIV3Schema`
 * (`toOpenApi`). Nothing outside this file imports the library.
 */
import { Type, Kind, type Static, type TSchema } from '@sinclair/typebox';

/** A schema for values of type `Infer<S>`. */
export type Schema = TSchema;
/** The TypeScript type a schema describes. */
export type Infer<S extends Schema> = Static<S>;

interface Annotations {
  description?: string;
}

/** Builders. Each mirrors the OpenAPI v3 subset that Kubernetes structural schemas allow. */
export const s = {
  /** `default` fills a whole absent object (its fields' own defaults then apply inside). */
  object<P extends Record<string, Schema>>(properties: P, opts: Annotations & { open?: boolean; default?: Record<string, unknown> } = {}) {
    const { open, ...rest } = opts;
    return Type.Object(properties, { ...rest, additionalProperties: open === true });
  },
  optional<S extends Schema>(schema: S) {
    return Type.Optional(schema);
  },
  string(opts: Annotations & { minLength?: number; pattern?: string; format?: string; default?: string } = {}) {
    return Type.String(opts);
  },
  integer(opts: Annotations & { minimum?: number; maximum?: number; default?: number } = {}) {
    return Type.Integer(opts);
  },
  number(opts: Annotations & { minimum?: number; maximum?: number } = {}) {
    return Type.Number(opts);
  },
  boolean(opts: Annotations & { default?: boolean } = {}) {
    return Type.Boolean(opts);
  },
  array<S extends Schema>(items: S, opts: Annotations & { minItems?: number; default?: Infer<S>[] } = {}) {
    return Type.Array(items, opts);
  },
  /** A map with string keys and values of one schema (Kubernetes labels, annotations, data). */
  map<S extends Schema>(values: S, opts: Annotations = {}) {
    return Type.Record(Type.String(), values, opts);
  },
  /** A value of any one of the given shapes; the first that fits wins. */
  anyOf<T extends Schema[]>(options: [...T], opts: Annotations = {}) {
    return Type.Union(options, opts);
  },
  /** One of a fixed set of strings. */
  enumOf<const T extends readonly string[]>(values: T, opts: Annotations & { default?: T[number] } = {}) {
    return Type.Unsafe<T[number]>({ ...opts, type: 'string', enumValues: values });
  },
  /** Kubernetes IntOrString (`targetPort`, quantities written as numbers or strings). */
  intOrString(opts: Annotations = {}) {
    return Type.Unsafe<number | string>({ ...opts, intOrString: true });
  },
  /**
   * Any JSON value. Used for Kubernetes fields that osm-ts accepts but does not interpret
   * (for example a container's `resources`), so they are neither rejected nor reported unknown.
   */
  any(opts: Annotations = {}) {
    return Type.Unknown({ ...opts, preserveUnknown: true });
  },
};

/** One problem found while decoding, with the field path in `a.b[1].c` form. */
export interface DecodeIssue {
  path: string;
  /** `unknown-field` issues are kept apart so callers can choose how strict to be. */
  type: 'invalid' | 'unknown-field';
  message: string;
}

export type DecodeResult<T> =
  | { ok: true; value: T; unknownFields: DecodeIssue[] }
  | { ok: false; issues: DecodeIssue[] };

/**
 * Checks `input` against `schema` and returns a fresh value with defaults applied and unknown
 * fields removed (as the Kubernetes API server prunes them). Every issue is collected before
 * deciding; unknown fields never make the result invalid on their own.
 */
export function decode<S extends Schema>(schema: S, input: unknown, basePath = ''): DecodeResult<Infer<S>> {
  const issues: DecodeIssue[] = [];
  const value = walk(schema, input, basePath, issues);
  const invalid = issues.filter((i) => i.type === 'invalid');
  if (invalid.length > 0) return { ok: false, issues };
  return { ok: true, value: value as Infer<S>, unknownFields: issues };
}

/** Joins a field path: `joinPath('spec', 'a')` is `spec.a`, `joinPath('spec.b', 2)` is `spec.b[2]`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`;
  return base === '' ? key : `${base}.${key}`;
}

/** Describes a JSON value for messages: `string "abc"`, `number 5`, `object`, `null`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  switch (typeof value) {
    case 'string':
      return `string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value)}`;
    case 'number':
    case 'boolean':
      return `${typeof value} ${String(value)}`;
    case 'object':
      return 'object';
    default:
      return typeof value;
  }
}

type JsonSchema = TSchema & {
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: boolean;
  patternProperties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  const?: unknown;
  enumValues?: readonly string[];
  intOrString?: boolean;
  preserveUnknown?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  minItems?: number;
  pattern?: string;
  default?: unknown;
};

function walk(schema: JsonSchema, value: unknown, path: string, issues: DecodeIssue[]): unknown {
  const fail = (message: string): undefined => {
    issues.push({ path, type: 'invalid', message });
    return undefined;
  };
  if (schema.preserveUnknown) return value;
  if (schema.enumValues) {
    if (typeof value === 'string' && schema.enumValues.includes(value)) return value;
    return fail(`expected one of ${schema.enumValues.map((v) => JSON.stringify(v)).join(', ')}, got ${describeValue(value)}`);
  }
  if (schema.intOrString) {
    if ((typeof value === 'number' && Number.isInteger(value)) || typeof value === 'string') return value;
    return fail(`expected an integer or a string, got ${describeValue(value)}`);
  }
  if (schema.const !== undefined) {
    if (value === schema.const) return value;
    return fail(`expected ${JSON.stringify(schema.const)}, got ${describeValue(value)}`);
  }
  if (schema.anyOf) return walkUnion(schema.anyOf, value, path, issues);
  switch (schema.type) {
    case 'object':
      return walkObject(schema, value, path, issues);
    case 'array': {
      if (!Array.isArray(value)) return fail(`expected a list, got ${describeValue(value)}`);
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        fail(`expected at least ${schema.minItems} item${schema.minItems === 1 ? '' : 's'}, got ${value.length}`);
      }
      const items = schema.items as JsonSchema;
      return value.map((item, i) => walk(items, item, joinPath(path, i), issues));
    }
    case 'string':
      if (typeof value !== 'string') return fail(`expected a string, got ${describeValue(value)}`);
      if (schema.minLength !== undefined && value.length < schema.minLength) return fail('expected a non-empty string');
      if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) {
        return fail(`expected a string matching ${schema.pattern}, got ${describeValue(value)}`);
      }
      return value;
    case 'integer':
    case 'number': {
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return fail(`expected ${schema.type === 'integer' ? 'an integer' : 'a number'}, got ${describeValue(value)}`);
      }
      if (schema.type === 'integer' && !Number.isInteger(value)) return fail(`expected an integer, got ${describeValue(value)}`);
      if (schema.minimum !== undefined && value < schema.minimum) return fail(`expected a value >= ${schema.minimum}, got ${value}`);
      if (schema.maximum !== undefined && value > schema.maximum) return fail(`expected a value <= ${schema.maximum}, got ${value}`);
      return value;
    }
    case 'boolean':
      if (typeof value !== 'boolean') return fail(`expected true or false, got ${describeValue(value)}`);
      return value;
    default:
      throw new Error(`schema at ${path || '(root)'} has unsupported type ${String(schema.type ?? schema[Kind])}`);
  }
}

function walkObject(schema: JsonSchema, value: unknown, path: string, issues: DecodeIssue[]): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    issues.push({ path, type: 'invalid', message: `expected an object, got ${describeValue(value)}` });
    return undefined;
  }
  const input = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const record = schema.patternProperties ? Object.values(schema.patternProperties)[0] : undefined;
  if (record) {
    for (const [k, v] of Object.entries(input)) setOwn(out, k, walk(record, v, joinPath(path, k), issues));
    return out;
  }
  const props = schema.properties ?? {};
  const required = new Set(schema.required ?? []);
  for (const [k, propSchema] of Object.entries(props)) {
    const v = input[k];
    if (v === undefined || v === null) {
      // Kubernetes treats an explicit null like an absent field.
      // Defaults go through the schema too, so an object default gets its fields' defaults.
      if (propSchema.default !== undefined) out[k] = walk(propSchema, structuredClone(propSchema.default), joinPath(path, k), issues);
      else if (required.has(k)) issues.push({ path: joinPath(path, k), type: 'invalid', message: 'required field is missing' });
      continue;
    }
    out[k] = walk(propSchema, v, joinPath(path, k), issues);
  }
  for (const k of Object.keys(input)) {
    if (k in props) continue;
    if (schema.additionalProperties === true) setOwn(out, k, input[k]);
    else issues.push({ path: joinPath(path, k), type: 'unknown-field', message: 'unknown field' });
  }
  return out;
}

/** Sets an own property, even one named `__proto__`: map keys are data, never prototypes. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function walkUnion(options: JsonSchema[], value: unknown, path: string, issues: DecodeIssue[]): unknown {
  let best: DecodeIssue[] | undefined;
  for (const option of options) {
    const attempt: DecodeIssue[] = [];
    const out = walk(option, value, path, attempt);
    if (!attempt.some((i) => i.type === 'invalid')) {
      issues.push(...attempt);
      return out;
    }
    if (best === undefined || attempt.length < best.length) best = attempt;
  }
  issues.push(...(best ?? []));
  return undefined;
}

/** An OpenAPI v3 schema as Kubernetes CRDs embed it. */
export type OpenApiSchema = Record<string, unknown>;

/** Converts a schema into a Kubernetes structural `openAPIV3Schema`. */
export function toOpenApi(schema: Schema): OpenApiSchema {
  const js = schema as JsonSchema;
  const out: OpenApiSchema = {};
  if (js.description) out.description = js.description;
  if (js.preserveUnknown) return { ...out, 'x-kubernetes-preserve-unknown-fields': true };
  if (js.intOrString) return { ...out, 'x-kubernetes-int-or-string': true };
  if (js.enumValues) return withDefault({ ...out, type: 'string', enum: [...js.enumValues] }, js);
  if (js.anyOf) {
    // Structural schemas forbid types inside anyOf branches at the top; our unions of objects
    // are only used for version-specific shapes, so the first branch is the served shape.
    return toOpenApi(js.anyOf[0] as Schema);
  }
  switch (js.type) {
    case 'object': {
      out.type = 'object';
      const record = js.patternProperties ? Object.values(js.patternProperties)[0] : undefined;
      if (record) {
        out.additionalProperties = toOpenApi(record);
        return out;
      }
      const props = js.properties ?? {};
      if (Object.keys(props).length > 0) {
        out.properties = Object.fromEntries(Object.entries(props).map(([k, v]) => [k, toOpenApi(v)]));
      }
      // A field with a default is filled by the API server before validation: never required.
      const required = (js.required ?? []).filter((k) => props[k]?.default === undefined);
      if (required.length > 0) out.required = required;
      if (js.default !== undefined) out.default = js.default;
      if (js.additionalProperties === true) out['x-kubernetes-preserve-unknown-fields'] = true;
      return out;
    }
    case 'array':
      out.type = 'array';
      out.items = toOpenApi(js.items as Schema);
      if (js.minItems !== undefined) out.minItems = js.minItems;
      return withDefault(out, js);
    default:
      out.type = js.type;
      for (const key of ['minimum', 'maximum', 'minLength', 'pattern', 'format'] as const) {
        if (js[key] !== undefined) out[key] = js[key];
      }
      return withDefault(out, js);
  }
}

function withDefault(out: OpenApiSchema, js: JsonSchema): OpenApiSchema {
  if (js.default !== undefined) out.default = js.default;
  return out;
}
