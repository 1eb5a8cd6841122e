import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { defineContext } from '../layers/http/context';
import { route } from '../layers/http/route';
import { contexts, routes } from './api';

const probe = (context: string) =>
  route({
    operationId: 'probe',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/probe',
    context,
    auth: 'user',
    permission: 'tenant:read',
    summary: 'A probe',
    tags: ['probe'],
    params: z.strictObject({ tenantId: z.string() }),
    responses: { 200: { description: 'ok' } },
  });

/** Every `ids.next('x')` in the product's code, by prefix. */
function usedIdPrefixes(dir: URL): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
    .flatMap((file) =>
      [...readFileSync(new URL(file, dir), 'utf8').matchAll(/\.next\('([a-z]+)'\)/g)].map((m) => m[1] ?? ''),
    );
}

describe('Module: context definitions', () => {
  it('gives every id prefix the code uses to exactly one context', () => {
    const declared = contexts.flatMap((c) => c.idPrefixes);
    expect(new Set(declared).size).toBe(declared.length);
    const used = new Set([
      ...usedIdPrefixes(new URL('./', import.meta.url)),
      ...usedIdPrefixes(new URL('../layers/', import.meta.url)),
    ]);
    expect(used.size).toBeGreaterThan(5);
    for (const prefix of used) expect(declared, prefix).toContain(prefix);
  });

  it("keeps a context's data to the tenant in the path unless it says why not", () => {
    expect(defineContext({ name: 'probe', routes: [probe('probe')] }).data).toEqual({ scope: 'tenant' });
    expect(() => defineContext({ name: 'probe', routes: [probe('probe')], platformData: '' })).toThrow(
      /needs its reason/,
    );
    expect(() => defineContext({ name: 'probe', routes: [probe('probe')], platformData: '   ' })).toThrow(
      /needs its reason/,
    );
    expect(
      defineContext({
        name: 'probe',
        routes: [probe('probe')],
        platformData: 'Keyed by email before any tenant.',
      }).data,
    ).toEqual({ scope: 'platform', reason: 'Keyed by email before any tenant.' });
  });

  it('refuses a route that names another context', () => {
    expect(() => defineContext({ name: 'probe', routes: [probe('other')] })).toThrow(/names context other/);
  });

  it('gives every route of the API to exactly one context, whose entry exists', () => {
    const names = contexts.map((c) => c.name);
    expect(new Set(names).size).toBe(names.length);
    expect(contexts.flatMap((c) => c.routes)).toEqual(routes);
    for (const context of contexts) {
      expect(existsSync(new URL(`../${context.entry}`, import.meta.url)), context.entry).toBe(true);
      if (context.data.scope === 'platform') expect(context.data.reason.length).toBeGreaterThan(10);
    }
  });

  it('runs every context with a tenant in every path under tenant-scoped data, or says why not', () => {
    const unscoped = contexts.filter((c) => c.data.scope === 'platform').map((c) => c.name);
    // the contexts that reach other partitions, each with its reason in its definition
    expect(unscoped.sort()).toEqual([
      'auth',
      'members',
      'plans',
      'platform',
      'status-pages',
      'tenants',
      'tokens',
    ]);
  });
});
