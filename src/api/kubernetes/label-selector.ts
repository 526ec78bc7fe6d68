/**
 * Kubernetes LabelSelector (meta/v1): the schema and the one matching function, so that
 * workloads' admission rules and anything that selects pods agree on what a selector means.
 */
import { s, type Infer } from '../../lib/schema.js';

const requirementSchema = s.object({
  key: s.string({ minLength: 1 }),
  operator: s.enumOf(['In', 'NotIn', 'Exists', 'DoesNotExist']),
  values: s.optional(s.array(s.string())),
});

/** A label selector: every `matchLabels` entry and every `matchExpressions` requirement must hold. */
export const labelSelectorSchema = s.object({
  matchLabels: s.optional(s.map(s.string())),
  matchExpressions: s.optional(s.array(requirementSchema)),
});

/** A decoded LabelSelector. */
export type LabelSelector = Infer<typeof labelSelectorSchema>;

type Requirement = Infer<typeof requirementSchema>;

/** Whether the selector has no terms (it would select everything). */
export function isEmptySelector(selector: LabelSelector): boolean {
  return Object.keys(selector.matchLabels ?? {}).length === 0 && (selector.matchExpressions ?? []).length === 0;
}

/**
 * Why `labels` do not satisfy `selector`, or undefined when they do. The reason names the
 * first failing term, in the order the selector lists them.
 */
export function selectorMismatch(selector: LabelSelector, labels: Readonly<Record<string, string>>): string | undefined {
  for (const [key, want] of Object.entries(selector.matchLabels ?? {})) {
    const got = labelValue(labels, key);
    if (got === undefined) return `label ${JSON.stringify(key)} is missing`;
    if (got !== want) return `label ${JSON.stringify(key)} is ${JSON.stringify(got)}, the selector wants ${JSON.stringify(want)}`;
  }
  for (const req of selector.matchExpressions ?? []) {
    if (!holds(req, labels)) return `requirement ${formatRequirement(req)} does not hold`;
  }
  return undefined;
}

/** Whether `labels` satisfy `selector`. */
export function matchesLabelSelector(selector: LabelSelector, labels: Readonly<Record<string, string>>): boolean {
  return selectorMismatch(selector, labels) === undefined;
}

/** The selector in kubectl's string form: `app=bookstore,version in (v1,v2)`. */
export function formatSelector(selector: LabelSelector): string {
  const terms = Object.entries(selector.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const req of selector.matchExpressions ?? []) terms.push(formatRequirement(req));
  return terms.join(',');
}

function holds(req: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const got = labelValue(labels, req.key);
  const values = req.values ?? [];
  switch (req.operator) {
    case 'In':
      return got !== undefined && values.includes(got);
    case 'NotIn':
      return got === undefined || !values.includes(got);
    case 'Exists':
      return got !== undefined;
    case 'DoesNotExist':
      return got === undefined;
  }
}

// Own keys only: a label named like an Object.prototype member must not appear present.
function labelValue(labels: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(labels, key) ? labels[key] : undefined;
}

function formatRequirement(req: Requirement): string {
  switch (req.operator) {
    case 'Exists':
      return req.key;
    case 'DoesNotExist':
      return `!${req.key}`;
    default:
      return `${req.key} ${req.operator.toLowerCase()} (${(req.values ?? []).join(',')})`;
  }
}
