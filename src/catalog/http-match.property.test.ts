/**
 * Property tests for HTTPRouteGroup matches (smi-decisions A1, A2, A4, A5, A7): a match, decoded
 * from its written form and compiled, fits a request exactly when a reference evaluation written
 * here from the decisions says so.
 *
 * The reference uses JavaScript's RegExp in place of RE2. The generated regexes use only
 * literals, `.`, `*`, groups and alternation, and the generated text only printable ASCII, where
 * the two engines accept the same strings (they differ on `\r` and U+2028 for `.`, and on
 * lookarounds and backreferences, none of which are generated). Regexes are built as trees so
 * that requests can be made to fit them as often as not.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { HTTP_METHODS, type HTTPRouteGroup, type HttpMethod } from '../api/smi/index.js';
import { parseValid } from '../testing/manifests.js';
import { compileHttpMatch, mismatch, type HttpRequestAttributes } from './http-match.js';

/** A match as a user writes it: header names in any case, in the map or the list form (A4). */
interface WrittenMatch {
  pathRegex?: Regex;
  methods?: HttpMethod[];
  headers: Array<{ name: string; regex: Regex }>;
  headersAsList: boolean;
}

/** A request as the reference sees it: the path and the query or fragment are kept apart. */
interface Request {
  method: string;
  path: string;
  /** `?query` or `#fragment`, or empty. */
  suffix: string;
  /** Names in lower case, as `HttpRequestAttributes` requires. */
  headers: Record<string, string>;
  authority?: string;
}

/** A regex as a tree, so the test can both print it and make strings that fit it. */
type Atom = { kind: 'literal'; char: string } | { kind: 'any' } | { kind: 'group'; alternatives: Regex[] };
type Regex = Array<{ atom: Atom; star: boolean }>;

/** Characters literals match; `.` is written escaped. Paths and values are made of these. */
const LITERALS = ['a', 'b', '/', '-', 'A', '.'];

const { regex: arbRegex } = fc.letrec<{ atom: Atom; regex: Regex }>((tie) => ({
  atom: fc.oneof(
    { depthIdentifier: 'regex', maxDepth: 2 },
    fc.constantFrom(...LITERALS).map((char): Atom => ({ kind: 'literal', char })),
    fc.constant<Atom>({ kind: 'any' }),
    fc.array(tie('regex'), { minLength: 1, maxLength: 3 }).map((alternatives): Atom => ({ kind: 'group', alternatives })),
  ),
  // `**` never appears: a star follows an atom only (RE2 rejects a repeated repetition).
  regex: fc.array(fc.record({ atom: tie('atom'), star: fc.boolean() }), { maxLength: 4 }),
}));

/** The regex as a manifest writes it. */
function sourceOf(re: Regex): string {
  const atom = (a: Atom): string =>
    a.kind === 'literal' ? (a.char === '.' ? '\\.' : a.char) : a.kind === 'any' ? '.' : `(${a.alternatives.map(sourceOf).join('|')})`;
  return re.map((i) => atom(i.atom) + (i.star ? '*' : '')).join('');
}

/** Strings that fit `re`, built from its tree. */
function fitting(re: Regex): fc.Arbitrary<string> {
  const atom = (a: Atom): fc.Arbitrary<string> =>
    a.kind === 'literal' ? fc.constant(a.char) : a.kind === 'any' ? fc.constantFrom(...LITERALS, 'z', '%', '~') : fc.oneof(...a.alternatives.map(fitting));
  const items = re.map((i) => (i.star ? fc.array(atom(i.atom), { maxLength: 2 }).map((parts) => parts.join('')) : atom(i.atom)));
  return fc.tuple(...items).map((parts) => parts.join(''));
}

/** The reference: `source` matches the whole of `text`. */
function wholeMatch(source: string, text: string): boolean {
  return new RegExp(`^(?:${source})$`, 'u').test(text);
}

/** Text that often fits `re` (so both outcomes are common) and sometimes is arbitrary. */
function textFor(re: Regex | undefined): fc.Arbitrary<string> {
  const arbitrary = fc.string({ unit: fc.constantFrom(...LITERALS), maxLength: 6 });
  return re === undefined ? arbitrary : fc.oneof(fitting(re), arbitrary);
}

const HEADER_NAMES = ['x-user', 'x-env', 'host'] as const;

const arbWrittenMatch: fc.Arbitrary<WrittenMatch> = fc.record(
  {
    pathRegex: arbRegex,
    methods: fc.subarray([...HTTP_METHODS]),
    // Names in mixed case; the decoder rejects two names that differ only in case (A4).
    headers: fc.uniqueArray(
      fc.record({ name: fc.mixedCase(fc.constantFrom(...HEADER_NAMES)), regex: arbRegex }),
      { selector: (h) => h.name.toLowerCase(), maxLength: 3 },
    ),
    headersAsList: fc.boolean(),
  },
  { requiredKeys: ['headers', 'headersAsList'] },
);

const requestMethods = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'HEAD', 'OPTIONS', 'get', 'Post'];

function arbRequestFor(m: WrittenMatch): fc.Arbitrary<Request> {
  const regexOf = (name: string) => m.headers.find((h) => h.name.toLowerCase() === name)?.regex;
  const value = (name: string) => fc.option(textFor(regexOf(name)), { nil: undefined });
  return fc
    .record({
      method: fc.constantFrom(...requestMethods),
      path: textFor(m.pathRegex),
      suffix: fc.oneof(fc.constant(''), fc.tuple(fc.constantFrom('?', '#'), fc.string({ unit: fc.constantFrom('a', '=', '/', '?', '#', '&'), maxLength: 5 })).map(([c, s]) => c + s)),
      user: value('x-user'),
      env: value('x-env'),
      hostHeader: value('host'),
      authority: value('host'),
    })
    .map(({ user, env, hostHeader, authority, ...rest }) => {
      const headers: Record<string, string> = {};
      if (user !== undefined) headers['x-user'] = user;
      if (env !== undefined) headers['x-env'] = env;
      if (hostHeader !== undefined) headers.host = hostHeader;
      return authority === undefined ? { ...rest, headers } : { ...rest, headers, authority };
    });
}

/** The decisions, evaluated directly on the written match. */
function referenceFits(m: WrittenMatch, req: Request): boolean {
  // A1, A2: the whole path, without the query string or fragment.
  if (m.pathRegex !== undefined && !wholeMatch(sourceOf(m.pathRegex), req.path)) return false;
  // A7: no methods, an empty list or `*` mean any method. The evaluator compares methods
  // case-insensitively (it upper-cases the request's), so the reference does too.
  if (m.methods !== undefined && m.methods.length > 0 && !m.methods.includes('*')) {
    if (!(m.methods as string[]).includes(req.method)) return false;
  }
  // A5: names ignore case; `host` is the authority (the Host header when there is none);
  // a missing header fails; values match whole.
  for (const h of m.headers) {
    const name = h.name.toLowerCase();
    const value = name === 'host' ? (req.authority ?? req.headers.host) : req.headers[name];
    if (value === undefined || !wholeMatch(sourceOf(h.regex), value)) return false;
  }
  return true;
}

/** Decodes the written match through the HTTPRouteGroup kind, as manifests and the API are. */
function decodeMatch(m: WrittenMatch): HTTPRouteGroup {
  const headerPairs = m.headers.map((h) => [h.name, sourceOf(h.regex)] as const);
  const match: Record<string, unknown> = { name: 'm' };
  if (m.pathRegex !== undefined) match.pathRegex = sourceOf(m.pathRegex);
  if (m.methods !== undefined) match.methods = m.methods;
  if (headerPairs.length > 0) {
    match.headers = m.headersAsList ? headerPairs.map(([k, v]) => ({ [k]: v })) : Object.fromEntries(headerPairs);
  }
  const doc = { apiVersion: 'specs.smi-spec.io/v1alpha4', kind: 'HTTPRouteGroup', metadata: { name: 'g', namespace: 'shop' }, spec: { matches: [match] } };
  return parseValid(JSON.stringify(doc)).objects[0]?.object as HTTPRouteGroup;
}

function attributesOf(req: Request): HttpRequestAttributes {
  const attributes: HttpRequestAttributes = { method: req.method, path: req.path + req.suffix, headers: req.headers };
  if (req.authority !== undefined) attributes.authority = req.authority;
  return attributes;
}

test('a compiled HTTPRouteGroup match fits exactly the requests the decisions say it fits (A1, A2, A4, A5, A7)', () => {
  const outcomes = { fits: 0, misses: 0 };
  fc.assert(
    fc.property(
      arbWrittenMatch.chain((m) => fc.tuple(fc.constant(m), arbRequestFor(m))),
      ([written, req]) => {
        const group = decodeMatch(written);
        const [spec] = group.spec.matches;
        assert.ok(spec);
        const compiled = compileHttpMatch({ kind: 'HTTPRouteGroup', namespace: 'shop', name: 'g' }, spec);
        const want = referenceFits(written, req);
        assert.equal(mismatch(compiled, attributesOf(req)) === undefined, want);
        outcomes[want ? 'fits' : 'misses']++;
      },
    ),
    { numRuns: 300 },
  );
  // Both outcomes must be common, or the property says little.
  assert.ok(outcomes.fits >= 30 && outcomes.misses >= 30, `fits ${outcomes.fits}, misses ${outcomes.misses}`);
});

test('a path regex matches the same paths as its JavaScript reference, with and without a query (A1, A2)', () => {
  fc.assert(
    fc.property(
      arbRegex.chain((re) => fc.tuple(fc.constant(sourceOf(re)), textFor(re), fc.constantFrom('', '?', '?a=/b', '#a', '?a#b'))),
      ([source, path, suffix]) => {
        const compiled = compileHttpMatch({ kind: 'HTTPRouteGroup', namespace: 'shop', name: 'g' }, { name: 'm', pathRegex: source });
        assert.equal(mismatch(compiled, { method: 'GET', path: path + suffix, headers: {} }) === undefined, wholeMatch(source, path));
      },
    ),
    { numRuns: 300 },
  );
});

// Header names that are keys of Object.prototype, which plain-object maps get wrong. Found while
// writing the properties above; each case is the smallest input that showed it.
const prototypeCases: Array<{ name: string; todo?: string; run: () => void }> = [
  {
    name: 'a `__proto__` header condition is kept, not dropped (dropping it widens the match, A4)',
    run: () => {
      const group = parseValid(
        'apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {name: g, namespace: shop}\nspec:\n  matches: [{name: m, headers: {__proto__: "x"}}]\n',
      ).objects[0]?.object as HTTPRouteGroup;
      assert.deepEqual(group.spec.matches[0]?.headers, Object.fromEntries([['__proto__', 'x']]));
    },
  },
  {
    name: 'a `Constructor` header condition is one condition, not a duplicate (A4)',
    run: () => {
      const group = parseValid(
        'apiVersion: specs.smi-spec.io/v1alpha4\nkind: HTTPRouteGroup\nmetadata: {name: g, namespace: shop}\nspec:\n  matches: [{name: m, headers: {Constructor: "x"}}]\n',
      ).objects[0]?.object as HTTPRouteGroup;
      assert.deepEqual(group.spec.matches[0]?.headers, { constructor: 'x' });
    },
  },
  {
    name: 'a request without a `constructor` header does not fit a `constructor` condition (A5: missing fails)',
    run: () => {
      const compiled = compileHttpMatch({ kind: 'HTTPRouteGroup', namespace: 'shop', name: 'g' }, { name: 'm', headers: { constructor: '.*' } });
      assert.equal(mismatch(compiled, { method: 'GET', path: '/', headers: {} }), 'header constructor is missing');
    },
  },
];
for (const c of prototypeCases) test(c.name, c.todo ? { todo: c.todo } : {}, c.run);
