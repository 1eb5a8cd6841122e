import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../layers/errors/app-error';
import { domainClaim } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import type { Store } from '../../layers/store/store';
import { type startDynamoDbLocal, startTestStore } from '../../test/support/dynamodb';
import { platformDomains, refuseDomains } from './domains';

let dynamo: Awaited<ReturnType<typeof startDynamoDbLocal>>;
let store: Store;
const config = {
  API_URL: 'https://api.panel.example.net',
  APP_URL: 'https://app.panel.example.net',
  PLATFORM_DOMAINS: 'status-pages.example.org',
} as Platform['config'];
const mine = 'ten_01jdomainsmine00000000000000';
const theirs = 'ten_01jdomainstheirs000000000000';

beforeAll(async () => {
  ({ dynamo, store } = await startTestStore({ now: () => new Date('2026-12-08T00:00:00Z') }));
  await store.put(domainClaim({ tenantId: theirs, id: 'ste_01jdomainstheirsite00000000' }, 'shop.example'));
  await store.put(domainClaim({ tenantId: mine, id: 'ste_01jdomainsminesite000000000' }, 'mine.example'));
});
afterAll(async () => {
  await dynamo?.stop();
});

const refusal = (domains: string[]) =>
  refuseDomains(
    { store, config },
    mine,
    domains.map((domain, i) => ({ path: `body.aliases.${i}`, domain })),
  ).then(
    () => undefined,
    (error: unknown) => (error as AppError).errors,
  );

describe('Service: domains a site may take', () => {
  it("knows the platform's own domains from its addresses and its list", () => {
    expect(platformDomains(config).sort()).toEqual(['example.net', 'status-pages.example.org']);
  });

  it('refuses a wildcard over a public suffix, the platform or another tenant alike, saying the same', async () => {
    const refused = await refusal([
      '*.com',
      '*.co.uk',
      '*.github.io',
      '*.panel.example.net',
      '*.example.net',
      '*.shop.example',
    ]);
    expect(refused).toHaveLength(6);
    expect(new Set(refused?.map((e) => e.message)).size).toBe(1);
    expect(refused?.map((e) => e.path)).toEqual([0, 1, 2, 3, 4, 5].map((i) => `body.aliases.${i}`));
  });

  it("refuses the platform's own names and anything under them, and takes the rest", async () => {
    expect(
      await refusal(['api.panel.example.net', 'panel.example.net', 'x.status-pages.example.org']),
    ).toHaveLength(3);
    expect(
      await refusal(['*.mine.example', '*.fresh.example', 'shop.example', 'www.example.com']),
    ).toBeUndefined();
  });

  it('answers a field-level 400', async () => {
    const error = await refuseDomains({ store, config }, mine, [
      { path: 'body.domain', domain: '*.com' },
    ]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(400);
  });
});
