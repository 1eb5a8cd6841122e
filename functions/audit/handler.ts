import type { AuditItem } from '../../layers/audit/audit';
import { makeContextHandler } from '../../layers/http/context-handler';
import { ok } from '../../layers/http/route';
import { auditKeys } from '../../layers/model/audit-log';
import { auditContext } from './context';

const toEntry = ({
  pk: _pk,
  sk: _sk,
  entity: _entity,
  tenantId: _tenant,
  expiresAt: _ttl,
  version: _v,
  ...entry
}: AuditItem) => entry;

export const handler = makeContextHandler(auditContext, {
  listAuditLog: async ({ params, query, platform }) => {
    const from = query.from ? new Date(query.from).toISOString() : '0000';
    const to = query.to ? `${new Date(query.to).toISOString()}~` : '9999';
    const page = await platform.store.query<AuditItem>({
      pk: auditKeys.partition(params.tenantId),
      skBetween: [from, to],
      ascending: false,
      limit: query.limit,
      cursor: query.cursor,
      tenantId: params.tenantId,
      scope: 'audit-log',
      filter: {
        equals: { 'actor.userId': query.actor, action: query.action },
        startsWith: { target: query.target },
      },
    });
    return ok({ items: page.items.map(toEntry), nextCursor: page.nextCursor });
  },
});
