// Guards /api/openapi.json against drift: every JSON route the router registers is described, and every described operation is served.
import Router from '@koa/router';
import t from 'tap';
import { OPENAPI_DOCUMENT } from '../../../relay/api/openapi.ts';
import { startTestRelay } from '../../helpers/relay.ts';

interface Registered {
  readonly path: string | RegExp;
  readonly methods: readonly string[];
}

// The router's own registrations, as the relay's HTTP edge makes them at start.
const registered: Registered[] = [];
const register = Router.prototype.register;
Router.prototype.register = function (this: Router, path: unknown, methods: string[], ...rest: unknown[]) {
  if (typeof path === 'string' || path instanceof RegExp) registered.push({ path, methods: methods.map((method) => method.toLowerCase()) });
  return (register as (...args: unknown[]) => unknown).call(this, path, methods, ...rest);
} as typeof Router.prototype.register;
const relay = await startTestRelay('<Stream stat.html>\n  Format status\n</Stream>\n');
Router.prototype.register = register;
t.teardown(() => relay.stop());

/** The JSON APIs: /api/*, /record/*, /stat.json and a player's /state. */
function isJsonApi(path: string | RegExp): boolean {
  if (typeof path === 'string') return path.startsWith('/api/') || path.startsWith('/record/') || path === '/stat.json';
  return /^\^\\\/(api|record)\\\//.test(path.source) || path.source.endsWith('\\/state$');
}

/** An OpenAPI path with each {parameter} filled in, to test a router pattern against. */
const sample = (path: string): string => path.replace(/\{[^}]+\}/g, 'x');
/** A router path in OpenAPI's template form (`:camera` becomes `{camera}`). */
const templated = (path: string): string => path.replace(/:([A-Za-z_]+)/g, '{$1}');
const ALL_METHODS = 7;

function serves(route: Registered, path: string, method: string): boolean {
  const pathMatches = typeof route.path === 'string' ? templated(route.path) === path : route.path.test(sample(path));
  return pathMatches && (route.methods.length >= ALL_METHODS || route.methods.includes(method));
}

function operations(): Array<{ path: string; method: string }> {
  return Object.entries(OPENAPI_DOCUMENT.paths).flatMap(([path, item]) => Object.keys(item).map((method) => ({ path, method })));
}

function undescribed(routes: readonly Registered[]): string[] {
  const missing: string[] = [];
  for (const route of routes.filter((candidate) => isJsonApi(candidate.path))) {
    const methods = route.methods.length >= ALL_METHODS ? ['any'] : route.methods.filter((method) => method !== 'head');
    for (const method of methods) {
      const found = operations().some((operation) => (method === 'any' || operation.method === method) && serves(route, operation.path, operation.method));
      if (!found) missing.push(`${method.toUpperCase()} ${String(route.path)}`);
    }
  }
  return missing;
}

function unserved(routes: readonly Registered[]): string[] {
  const jsonRoutes = routes.filter((route) => isJsonApi(route.path));
  return operations().filter(({ path, method }) => !jsonRoutes.some((route) => serves(route, path, method))).map(({ path, method }) => `${method.toUpperCase()} ${path}`);
}

t.test('every JSON route of the router is in the OpenAPI document, and every operation there is a route', async (t) => {
  t.ok(registered.filter((route) => isJsonApi(route.path)).length >= 15, `the router's JSON routes were seen (${registered.length} routes in all)`);
  t.same(undescribed(registered), [], 'routes the document does not describe');
  t.same(unserved(registered), [], 'operations no route serves');
});

t.test('the comparison sees a route or an operation on one side only', async (t) => {
  t.same(undescribed([...registered, { path: '/api/not-described', methods: ['get', 'head'] }]), ['GET /api/not-described']);
  t.same(undescribed([...registered, { path: '/record/list', methods: ['post'] }]), ['POST /record/list'], 'a method is compared too');
  t.same(unserved(registered.filter((route) => route.path !== '/record/frames')), ['GET /record/frames']);
  t.same(unserved(registered.filter((route) => !(route.path instanceof RegExp && route.path.source.includes('vod')))), ['POST /api/vod/startup', 'POST /api/vod/find', 'POST /api/vod/find_all', 'POST /api/vod/terminate']);
});

t.test('/api/openapi.json serves the document as OpenAPI 3.1', async (t) => {
  const response = await fetch(`${relay.baseUrl}/api/openapi.json`);
  t.equal(response.status, 200);
  t.match(response.headers.get('content-type'), /application\/json/);
  const served = (await response.json()) as typeof OPENAPI_DOCUMENT;
  t.equal(served.openapi, '3.1.0');
  t.same(served, JSON.parse(JSON.stringify(OPENAPI_DOCUMENT)));
  for (const [path, item] of Object.entries(served.paths)) {
    for (const [method, operation] of Object.entries(item)) t.ok((operation as { responses?: object }).responses, `${method} ${path} lists its responses`);
  }
});
