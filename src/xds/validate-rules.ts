/**
 * Checks a protobuf message against the protoc-gen-validate rules written into Envoy's protos
 * (`(validate.rules)` on fields, `(validate.required)` on oneofs, `(validate.disabled)` on
 * messages), read at run time from the generated descriptors. Envoy rejects config that breaks
 * them ("Proto constraint validation failed"), so the control plane checks what it generates and
 * the proxy checks what it receives, NACKing with the paths this returns.
 *
 * What is checked, as PGV does: every field with implicit presence (proto3 scalars, enums,
 * repeated and map fields, which are "empty" rather than unset), every set field with explicit
 * presence (messages, oneof members, `optional` scalars), and the presence rules (`required`)
 * of unset messages and oneofs; it descends into every set message. With `registry`, it also
 * unpacks `Any` fields whose type the registry knows and checks their contents, as Envoy does
 * when it instantiates a typed config; unknown types are left alone.
 * Which rule kinds are implemented, and which not, is listed in validate-checks.ts.
 */
import { type DescField, type DescMessage, type DescOneof, type MessageShape, type Registry, fromBinary, getOption, hasOption } from '@bufbuild/protobuf';
import { isReflectMessage, reflect, type ReflectMessage } from '@bufbuild/protobuf/reflect';
import { AnySchema, FeatureSet_FieldPresence, isWrapperDesc } from '@bufbuild/protobuf/wkt';
import { disabled, required as oneofRequired, rules as fieldRules } from '../gen/validate/validate_pb.js';
import { compileRules, targetOf, type CompiledRules } from './validate-checks.js';

/** One broken rule: where (`filter_chains[0].filters[0].name`), which rule, and why. */
export interface RuleViolation {
  /**
   * Proto field names joined by dots; `[i]` for a list item, `["key"]` for a map entry (` (key)` after
   * it when the rule is on the key), `<full.type.Name>` inside an Any.
   */
  readonly path: string;
  /** The rule as validate.proto spells it: `string.min_len`, `oneof.required`, or `unsupported`. */
  readonly rule: string;
  readonly message: string;
}

/** Options for `validateRules`. */
export interface ValidateRulesOptions {
  /** Unpack and check `Any` values of the types this registry holds (e.g. `envoyRegistry`). */
  readonly registry?: Registry;
}

/**
 * Every rule `message` breaks, in field order; empty when it satisfies them all.
 * Pure: reads the message and the descriptors only.
 */
export function validateRules<Desc extends DescMessage>(schema: Desc, message: MessageShape<Desc>, options: ValidateRulesOptions = {}): RuleViolation[] {
  const out: RuleViolation[] = [];
  visitMessage({ out, registry: options.registry }, reflect(schema, message, false), '');
  return out;
}

/** Rule kinds used by `schema` and the messages it can hold that this checker does not implement. */
export function unsupportedRules(schema: DescMessage): string[] {
  const found = new Set<string>();
  const seen = new Set<string>();
  const walk = (desc: DescMessage) => {
    if (seen.has(desc.typeName)) return;
    seen.add(desc.typeName);
    for (const { field, rules } of planOf(desc).fields) {
      for (const rule of allUnsupported(rules)) found.add(`${desc.typeName}.${field.name}: ${rule}`);
      if (field.message) walk(field.message);
    }
  };
  walk(schema);
  return [...found].sort();
}

function allUnsupported(rules: CompiledRules | undefined): string[] {
  if (!rules) return [];
  return [...rules.unsupported, ...allUnsupported(rules.items), ...allUnsupported(rules.keys), ...allUnsupported(rules.values)];
}

interface Context {
  readonly out: RuleViolation[];
  readonly registry: Registry | undefined;
}

interface FieldPlan {
  readonly field: DescField;
  readonly rules: CompiledRules | undefined;
}

/** What to look at in one message type, compiled once from its descriptor. */
interface MessagePlan {
  readonly disabled: boolean;
  readonly requiredOneofs: readonly DescOneof[];
  /** Fields with rules, and message-typed fields to descend into. */
  readonly fields: readonly FieldPlan[];
}

const plans = new WeakMap<DescMessage, MessagePlan>();

function planOf(desc: DescMessage): MessagePlan {
  let plan = plans.get(desc);
  if (!plan) {
    plan = {
      disabled: hasOption(desc, disabled) && getOption(desc, disabled),
      requiredOneofs: desc.oneofs.filter((oneof) => hasOption(oneof, oneofRequired) && getOption(oneof, oneofRequired)),
      fields: desc.fields.flatMap((field) => {
        const rules = hasOption(field, fieldRules) ? compileRules(getOption(field, fieldRules), targetOf(field)) : undefined;
        return rules || mayHoldRules(field) ? [{ field, rules }] : [];
      }),
    };
    plans.set(desc, plan);
  }
  return plan;
}

/** Messages may hold rules, except the well-known types (no rules of their own) other than Any. */
function mayHoldRules(field: DescField): boolean {
  const message = field.message;
  if (!message) return false;
  return message.typeName === AnySchema.typeName || !message.typeName.startsWith('google.protobuf.');
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function report(ctx: Context, path: string, rule: string, message: string): void {
  ctx.out.push({ path, rule, message });
}

function visitMessage(ctx: Context, message: ReflectMessage, path: string): void {
  const plan = planOf(message.desc);
  if (plan.disabled) return;
  for (const oneof of plan.requiredOneofs) {
    if (message.oneofCase(oneof) === undefined) {
      report(ctx, join(path, oneof.name), 'oneof.required', `one of ${oneof.fields.map((f) => f.name).join(', ')} is required`);
    }
  }
  for (const { field, rules } of plan.fields) visitField(ctx, message, field, rules, join(path, field.name));
}

function visitField(ctx: Context, message: ReflectMessage, field: DescField, rules: CompiledRules | undefined, path: string): void {
  const isSet = message.isSet(field);
  switch (field.fieldKind) {
    case 'scalar':
    case 'enum':
      // Implicit presence: the zero value is a value, as PGV checks it (an empty `name` breaks min_len).
      if (!isSet && (field.oneof !== undefined || field.presence !== FeatureSet_FieldPresence.IMPLICIT)) return;
      applyRules(ctx, rules, message.get(field), path);
      return;
    case 'message': {
      if (!isSet) {
        // A oneof member that is not the chosen case is not "missing": only the oneof's own rule applies.
        if (rules?.required && field.oneof === undefined) report(ctx, path, rules.required, 'is required');
        return;
      }
      const child = message.get(field);
      applyRules(ctx, rules, valueOf(child), path);
      if (!rules?.skip) descend(ctx, child, path);
      return;
    }
    case 'list': {
      const items = [...message.get(field)];
      applyRules(ctx, rules, items.map(valueOf), path);
      for (const [i, item] of items.entries()) visitElement(ctx, rules?.items, item, `${path}[${i}]`);
      return;
    }
    case 'map': {
      const entries = [...message.get(field)];
      applyRules(ctx, rules, entries, path);
      for (const [key, value] of entries) {
        const at = `${path}[${typeof key === 'string' ? JSON.stringify(key) : String(key)}]`;
        if (rules?.keys) applyRules(ctx, rules.keys, key, `${at} (key)`);
        visitElement(ctx, rules?.values, value, at);
      }
      return;
    }
  }
}

function visitElement(ctx: Context, rules: CompiledRules | undefined, item: unknown, path: string): void {
  applyRules(ctx, rules, valueOf(item), path);
  if (isReflectMessage(item) && !rules?.skip) descend(ctx, item, path);
}

/** What checks see: a wrapper's scalar, any other message's local value, or the value itself. */
function valueOf(item: unknown): unknown {
  if (!isReflectMessage(item)) return item;
  const inner = item.desc.fields[0];
  return isWrapperDesc(item.desc) && inner ? item.get(inner) : item.message;
}

function applyRules(ctx: Context, rules: CompiledRules | undefined, value: unknown, path: string): void {
  if (!rules) return;
  for (const rule of rules.unsupported) report(ctx, path, 'unsupported', `rule ${rule} is not checked by osm-ts`);
  if (rules.ignoreEmpty && value === '') return;
  for (const check of rules.checks) {
    const problem = check.test(value);
    if (problem !== undefined) report(ctx, path, check.rule, problem);
  }
}

function descend(ctx: Context, child: ReflectMessage, path: string): void {
  if (child.desc.typeName === AnySchema.typeName) {
    descendAny(ctx, child, path);
  } else if (!child.desc.typeName.startsWith('google.protobuf.')) {
    visitMessage(ctx, child, path);
  }
}

/** Checks a packed message, if the registry knows its type; bad bytes for a known type are a violation. */
function descendAny(ctx: Context, any: ReflectMessage, path: string): void {
  if (!ctx.registry) return;
  const typeUrlField = AnySchema.field.typeUrl;
  const valueField = AnySchema.field.value;
  if (!typeUrlField || !valueField) return;
  const typeUrl = any.get(typeUrlField);
  const bytes = any.get(valueField);
  if (typeof typeUrl !== 'string' || !(bytes instanceof Uint8Array)) return;
  const typeName = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
  const desc = ctx.registry.getMessage(typeName);
  if (!desc) return;
  const at = `${path}<${typeName}>`;
  let inner;
  try {
    inner = fromBinary(desc, bytes);
  } catch (err) {
    report(ctx, at, 'any.decode', `cannot decode: ${err instanceof Error ? err.message : String(err)}`);
    return;
  }
  visitMessage(ctx, reflect(desc, inner, false), at);
}
