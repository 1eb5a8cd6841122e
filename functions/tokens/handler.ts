import { makeContextHandler } from '../../layers/http/context-handler';
import { created, ok } from '../../layers/http/route';
import { type ApiTokenItem, apiTokenKeys, toApiToken } from '../../layers/model/api-tokens';
import { tenantPartition } from '../../layers/model/keys';
import { type UserItem, userKeys } from '../../layers/model/users';
import { tokensContext } from './context';
import { makeCreateApiToken, makeRevokeApiToken } from './service';
import { ensureResellerUsageKey } from './usage-keys';

export const handler = makeContextHandler(tokensContext, {
  createApiToken: async ({ params, body, principal, platform }) => {
    const usageKey = await ensureResellerUsageKey(platform, params.tenantId);
    const { item, token } = await makeCreateApiToken(platform)(params.tenantId, principal, body, usageKey);
    return created(
      { ...toApiToken(item, platform.clock.now(), true), token },
      `/v1/tenants/${params.tenantId}/api-tokens/${item.id}`,
    );
  },
  listApiTokens: async ({ params, query, platform }) => {
    const page = await platform.store.query<ApiTokenItem>({
      pk: tenantPartition(params.tenantId),
      skPrefix: apiTokenKeys.linkPrefix,
      limit: query.limit,
      cursor: query.cursor,
      tenantId: params.tenantId,
      scope: 'api-tokens',
    });
    // The links give the page; the tokens' own records carry their last use.
    const tokens = await platform.store.batchGet<ApiTokenItem>(
      page.items.map((link) => apiTokenKeys.item(link.id)),
    );
    const byId = new Map(tokens.map((t) => [t.id, t]));
    // whose creators are still members: a token whose creator left no longer works
    const creatorIds = [...new Set(page.items.map((link) => link.createdBy.userId))];
    const members = await platform.store.batchGet<UserItem>(
      creatorIds.map((userId) => userKeys.item(params.tenantId, userId)),
    );
    const memberIds = new Set(members.map((m) => m.id));
    const at = platform.clock.now();
    return ok({
      items: page.items.map((link) =>
        toApiToken(byId.get(link.id) ?? link, at, memberIds.has(link.createdBy.userId)),
      ),
      nextCursor: page.nextCursor,
    });
  },
  revokeApiToken: async ({ params, platform }) => {
    await makeRevokeApiToken(platform)(params.tenantId, params.tokenId);
    return { status: 204 };
  },
});
