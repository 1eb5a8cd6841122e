import { AppError } from '../../layers/errors/app-error';
import { ignoring } from '../../layers/errors/ignoring';
import { type DatabaseServerItem, databaseServerKeys } from '../../layers/model/databases';
import { type ServerItem, serverKeys } from '../../layers/model/servers';
import type { Platform } from '../../layers/runtime/platform';
import type { TaskHandlers } from '../../layers/runtime/tasks';
import { refreshDatabases } from './service';

export type DatabaseTaskEvent =
  /** the scheduled refresh (EventBridge Scheduler): every server with databases reads its engine and sizes */
  { action: 'databaseRefreshSweep'; input: { correlationId: string } };

/**
 * Starts a refresh on every active server that has databases, from the one platform partition
 * that lists them (no scan); a server without databases any more leaves the list.
 */
export async function sweepDatabaseServers(platform: Platform, correlationId: string) {
  let started = 0;
  for await (const page of platform.store.pages<DatabaseServerItem>({ pk: databaseServerKeys.partition })) {
    for (const entry of page) {
      const server = await platform.store.get<ServerItem>(serverKeys.item(entry.tenantId, entry.serverId));
      if (!server || (server.databaseCount ?? 0) === 0) {
        await platform.store.remove(databaseServerKeys.item(entry.tenantId, entry.serverId));
        continue;
      }
      // a server that is busy (rebooting, changing its stack) or not active is read next time
      await ignoring(AppError, async () => {
        await refreshDatabases(platform, server, `${correlationId}-${server.id}`);
        started += 1;
      });
    }
  }
  return { started };
}

export const databaseTasks: TaskHandlers<DatabaseTaskEvent> = {
  databaseRefreshSweep: (platform, event) => sweepDatabaseServers(platform, event.input.correlationId),
};
