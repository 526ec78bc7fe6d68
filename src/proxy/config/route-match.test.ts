/**
 * Route selection by Envoy's rules: virtual host by domain (exact, longest suffix wildcard,
 * longest prefix wildcard, `*`), then the first route whose path and headers match.
 */
import * as assert from 'node:assert/strict';
import { test } from 'node:test';
import { create, RouteConfigurationSchema, type MessageInitShape } from '../../xds/proto.js';
import { decodeRouteConfiguration } from './decode-route.js';
import type { RouteConfig } from './model.js';
import { selectRoute, type RouteRequest } from './route-match.js';

type RouteInit = NonNullable<NonNullable<MessageInitShape<typeof RouteConfigurationSchema>['virtualHosts']>[number]['routes']>[number];

const to = (name: string): RouteInit['action'] => ({ case: 'route', value: { clusterSpecifier: { case: 'cluster', value: name } } });
const prefix = (value: string) => ({ case: 'prefix' as const, value });

function config(): RouteConfig {
  const regex = (name: string, r: string) => ({ name, headerMatchSpecifier: { case: 'stringMatch' as const, value: { matchPattern: { case: 'safeRegex' as const, value: { regex: r } } } } });
  const result = decodeRouteConfiguration(
    create(RouteConfigurationSchema, {
      name: 'rds',
      virtualHosts: [
        { name: 'any', domains: ['*'], routes: [{ name: 'any', match: { pathSpecifier: prefix('/') }, action: to('any') }] },
        { name: 'prefix-short', domains: ['books.*'], routes: [{ name: 'p1', match: { pathSpecifier: prefix('/') }, action: to('p1') }] },
        { name: 'prefix-long', domains: ['books.shop.*'], routes: [{ name: 'p2', match: { pathSpecifier: prefix('/') }, action: to('p2') }] },
        { name: 'suffix-short', domains: ['*.com'], routes: [{ name: 's1', match: { pathSpecifier: prefix('/') }, action: to('s1') }] },
        { name: 'suffix-long', domains: ['*.shop.com'], routes: [{ name: 's2', match: { pathSpecifier: prefix('/') }, action: to('s2') }] },
        {
          name: 'bookstore',
          domains: ['bookstore', 'bookstore:14001'],
          routes: [
            { name: 'buy', match: { pathSpecifier: { case: 'safeRegex', value: { regex: '/buy/[0-9]+' } }, headers: [regex(':method', 'POST|PUT')] }, action: to('buy') },
            { name: 'beta', match: { pathSpecifier: { case: 'path', value: '/books' }, headers: [{ name: 'x-beta', headerMatchSpecifier: { case: 'presentMatch', value: true } }] }, action: to('beta') },
            { name: 'books', match: { pathSpecifier: prefix('/books') }, action: to('books') },
            { name: 'BOOKS', match: { pathSpecifier: prefix('/BOOKS'), caseSensitive: false }, action: to('shouting') },
          ],
        },
      ],
    }),
  );
  if (!result.ok) assert.fail(JSON.stringify(result.errors));
  return result.value;
}

const cases: Array<{ name: string; request: RouteRequest; want: [string, string] | undefined }> = [
  { name: 'an exact domain wins over every wildcard', request: { authority: 'bookstore', path: '/books', method: 'GET' }, want: ['bookstore', 'books'] },
  { name: 'domains compare case-insensitively, with the port', request: { authority: 'BookStore:14001', path: '/books?x=1', method: 'GET' }, want: ['bookstore', 'books'] },
  { name: 'the longest suffix wildcard wins', request: { authority: 'books.shop.com', path: '/', method: 'GET' }, want: ['suffix-long', 's2'] },
  { name: 'a suffix wildcard wins over a prefix wildcard', request: { authority: 'books.x.com', path: '/', method: 'GET' }, want: ['suffix-short', 's1'] },
  { name: 'the longest prefix wildcard wins', request: { authority: 'books.shop.org', path: '/', method: 'GET' }, want: ['prefix-long', 'p2'] },
  { name: 'a wildcard stands for at least one character', request: { authority: '.com', path: '/', method: 'GET' }, want: ['any', 'any'] },
  { name: '`*` catches the rest', request: { authority: 'elsewhere', path: '/', method: 'GET' }, want: ['any', 'any'] },
  { name: 'a whole-path regex and a method header', request: { authority: 'bookstore', path: '/buy/12', method: 'POST' }, want: ['bookstore', 'buy'] },
  { name: 'the regex must match the whole path', request: { authority: 'bookstore', path: '/buy/12/x', method: 'POST' }, want: undefined },
  { name: 'a method the header matcher refuses falls through', request: { authority: 'bookstore', path: '/buy/12', method: 'GET' }, want: undefined },
  { name: 'the first matching route wins', request: { authority: 'bookstore', path: '/books', method: 'GET', headers: new Map([['x-beta', '1']]) }, want: ['bookstore', 'beta'] },
  { name: 'an exact path needs the whole path', request: { authority: 'bookstore', path: '/books/1', method: 'GET', headers: new Map([['x-beta', '1']]) }, want: ['bookstore', 'books'] },
  { name: 'case-insensitive prefixes', request: { authority: 'bookstore', path: '/Books', method: 'GET' }, want: ['bookstore', 'BOOKS'] },
];

for (const c of cases) {
  test(`route match: ${c.name}`, () => {
    const got = selectRoute(config(), c.request);
    assert.deepEqual(got ? [got.virtualHost.name, got.route.name] : undefined, c.want);
  });
}

test('two virtual hosts may not claim one domain', () => {
  const result = decodeRouteConfiguration(
    create(RouteConfigurationSchema, { name: 'r', virtualHosts: [{ name: 'a', domains: ['x'] }, { name: 'b', domains: ['X'] }] }),
  );
  assert.deepEqual(result.ok ? [] : result.errors, [{ path: 'virtual_hosts[1].domains[0]', message: '"X" is also a domain of virtual_hosts[0]' }]);
});
