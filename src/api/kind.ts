/**
 * How a kind is defined: its group, versions (one schema each), the conversion of every served
 * version to the one internal form, and the admission rules checked on that form.
 */
import { decode, joinPath, type Infer, type Schema } from '../lib/schema.js';
import type { ObjectMeta, ObjectRef } from './meta.js';
import { problem, type Problem, type ProblemCode, type Severity } from './problem.js';

/** What every internal object has: its kind and metadata. */
export interface KubeObject {
  kind: string;
  metadata: ObjectMeta;
}

/** Collects problems for one object while it is converted and checked. */
export class ObjectReporter {
  readonly problems: Problem[] = [];
  constructor(
    readonly ref: ObjectRef,
    private readonly pathMap: (internalPath: string) => string = (p) => p,
  ) {}

  /** Reports a problem at a field of the internal form (mapped to the source's field path). */
  report(code: ProblemCode, field: string, params: Record<string, string> = {}, severity?: Severity): void {
    const where: Parameters<typeof problem>[2] = { object: this.ref, field: this.pathMap(field) };
    if (severity) where.severity = severity;
    this.problems.push(problem(code, params, where));
  }

  /** Reports at a field path of the source document as written (used during conversion). */
  reportAtSource(code: ProblemCode, field: string, params: Record<string, string> = {}): void {
    this.problems.push(problem(code, params, { object: this.ref, field }));
  }

  hasErrors(): boolean {
    return this.problems.some((p) => p.severity === 'error');
  }
}

/** One served version of a kind. */
export interface VersionDefinition<T extends KubeObject> {
  /** The whole document's schema in this version: the CRD's `openAPIV3Schema` comes from it. */
  readonly schema: Schema;
  /** Decodes a whole document of this version; returns undefined after reporting problems. */
  decode(doc: unknown, reporter: ObjectReporter, unknownFieldSeverity: Severity): T | undefined;
  /** Maps a field path of the internal form to where that field sits in this version. */
  pathMap?: (internalPath: string) => string;
}

/** Defines a version from its schema and a conversion to the internal form. */
export function defineVersion<S extends Schema, T extends KubeObject>(
  schema: S,
  convert: (obj: Infer<S>, reporter: ObjectReporter) => T | undefined,
  opts: { pathMap?: (internalPath: string) => string } = {},
): VersionDefinition<T> {
  const def: VersionDefinition<T> = {
    schema,
    decode(doc, reporter, unknownFieldSeverity) {
      const result = decode(schema, doc);
      const issues = result.ok ? result.unknownFields : result.issues;
      for (const issue of issues) {
        if (issue.type === 'unknown-field') {
          const hint = unknownFieldHint(issue.path);
          reporter.reportAtSource(unknownFieldSeverity === 'error' ? 'E2002' : 'E2003', issue.path, hint ? { hint } : {});
        } else {
          reporter.reportAtSource('E2001', issue.path, { detail: issue.message });
        }
      }
      if (!result.ok || reporter.hasErrors()) return undefined;
      return convert(result.value, reporter);
    },
  };
  if (opts.pathMap) def.pathMap = opts.pathMap;
  return def;
}

/** A kind osm-ts reads. `T` is its internal form. */
export interface KindDefinition<T extends KubeObject = KubeObject> {
  group: string;
  kind: string;
  plural: string;
  shortNames?: string[];
  namespaced: boolean;
  /** The version new objects are stored as, and the CRD's storage version. */
  storageVersion: string;
  versions: Record<string, VersionDefinition<T>>;
  /**
   * How an unknown field is reported. Policy kinds use `error`: ignoring a misspelt field there
   * could widen access. Others use `warning` and drop the field, as the API server prunes it.
   */
  unknownFields: Severity;
  /** Admission rules on the internal form (what OSM's validating webhook and the CRD enforce). */
  validate?(obj: T, reporter: ObjectReporter): void;
}

/** The `apiVersion` string for a group and version (`v1` for the core group). */
export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

/** Splits `group/version` (or `v1`) into its parts. */
export function parseApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.lastIndexOf('/');
  if (slash < 0) return { group: '', version: apiVersion };
  return { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

/** Known misplacements, so an unknown-field message can say where the field belongs. */
const misplacedFields: Array<[RegExp, string]> = [
  [/^spec\.observability\.(outboundPortExclusionList|inboundPortExclusionList|outboundIPRangeExclusionList|outboundIPRangeInclusionList|networkInterfaceExclusionList)$/, 'spec.traffic.$1'],
  [/^matches$/, 'spec.matches'],
  [/^spec\.destination\.port$/, 'a TCPRoute rule with spec.matches.ports (access v1alpha3 has no destination.port; use access v1alpha2 to keep it)'],
];

function unknownFieldHint(path: string): string | undefined {
  for (const [pattern, replacement] of misplacedFields) {
    if (pattern.test(path)) {
      const target = path.replace(pattern, replacement);
      return target.includes(' ') ? `use ${target}` : `did you mean ${target}?`;
    }
  }
  return undefined;
}

/** Joins path segments for reporters: re-exported so kinds need one import. */
export { joinPath };
