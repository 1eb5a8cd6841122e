import { resourceNames } from '../../layers/config/resources';
import { errors } from '../../layers/errors/app-error';
import { type Implementations, makeContextHandler } from '../../layers/http/context-handler';
import { eventStream, ok } from '../../layers/http/route';
import { tenantPartition } from '../../layers/model/keys';
import { type OperationItem, operationKeys, toOperation } from '../../layers/model/operations';
import { type ServerItem, serverKeys } from '../../layers/model/servers';
import { commandLogReader } from './command-logs';
import { operationsContext } from './context';
import { operationEvents } from './events';

/** The operations context's routes, served buffered (`handler`) or streamed (`streamHandler`). */
export const operationImplementations: Implementations<typeof operationsContext.routes> = {
  streamOperation: async ({ params, headers, platform }) => {
    const load = () =>
      platform.store.get<OperationItem>(operationKeys.item(params.tenantId, params.operationId), true);
    const first = await load();
    if (!first) throw errors.notFound('operation');
    return eventStream(
      operationEvents(first, load, {
        lastEventId: headers('last-event-id'),
        pollMs: platform.config.OPERATION_EVENTS_POLL_MS,
        maxMs: platform.config.OPERATION_EVENTS_MAX_SECONDS * 1000,
        heartbeatMs: 15_000,
        readLog: commandLogReader(resourceNames(platform.config.STAGE).hostCommandLogs),
      }),
    );
  },
  getOperation: async ({ params, platform }) => {
    const item = await platform.store.get<OperationItem>(
      operationKeys.item(params.tenantId, params.operationId),
    );
    if (!item) throw errors.notFound('operation');
    return ok(toOperation(item));
  },
  listOperations: async ({ params, query, platform }) => {
    // one target's operations come from its index, the tenant's from its partition
    const where = query.targetId
      ? { index: 'gsi1' as const, pk: operationKeys.byTarget(params.tenantId, query.targetId).gsi1pk }
      : { pk: tenantPartition(params.tenantId), skPrefix: operationKeys.prefix };
    const page = await platform.store.query<OperationItem>({
      ...where,
      ascending: false,
      limit: query.limit,
      cursor: query.cursor,
      tenantId: params.tenantId,
      // a cursor works only with the filters it was made with
      scope: `operations?${query.status ?? ''}&${query.kind ?? ''}&${query.targetId ?? ''}`,
      filter: { equals: { status: query.status, kind: query.kind } },
    });
    return ok({ items: page.items.map(toOperation), nextCursor: page.nextCursor });
  },
  listServerOperations: async ({ params, query, platform }) => {
    const server = await platform.store.get<ServerItem>(serverKeys.item(params.tenantId, params.serverId));
    if (!server) throw errors.notFound('server');
    const page = await platform.store.query<OperationItem>({
      index: 'gsi1',
      pk: operationKeys.byTarget(params.tenantId, params.serverId).gsi1pk,
      limit: query.limit,
      cursor: query.cursor,
      tenantId: params.tenantId,
      scope: `operations:${params.serverId}`,
    });
    return ok({ items: page.items.map(toOperation), nextCursor: page.nextCursor });
  },
};

/** This context for the local gateway and tests: a streamed body comes back as pieces to write. */
export const handler = makeContextHandler(operationsContext, operationImplementations);

/**
 * The Lambda's entry in AWS, where API Gateway streams this context's answers (STREAM transfer
 * mode): Lambda response streaming through middy. It exists only in the Lambda runtime, whose
 * `awslambda` global provides streamifyResponse.
 */
export const streamHandler =
  typeof (globalThis as { awslambda?: { streamifyResponse?: unknown } }).awslambda?.streamifyResponse ===
  'function'
    ? makeContextHandler(operationsContext, operationImplementations, { streamifyResponse: true })
    : undefined;
