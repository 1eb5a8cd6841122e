import { errors } from '../errors/app-error';
import { type BatchOutcome, partiqlName, type Store, type StoredItem } from '../store/store';
import type { Gauge } from './gauges';
import { tenantPartition, tenantSubPartition } from './keys';
import type { ServerStack } from './stack';

export const serverStatuses = ['provisioning', 'active', 'failed', 'deleting'] as const;
export type ServerStatus = (typeof serverStatuses)[number];

export const providers = ['local', 'hetzner', 'digitalocean', 'vultr', 'aws', 'custom'] as const;
export type ProviderName = (typeof providers)[number];
/** The providers whose API needs a tenant's own credentials. */
export const cloudProviders = ['hetzner', 'digitalocean', 'vultr', 'aws'] as const;
export type CloudProviderName = (typeof cloudProviders)[number];

/**
 * The newest metrics sample, kept on the server item so the dashboard reads it with the
 * server: every gauge of a sample (functions/metrics/sample.ts), under the same names.
 */
/** A server's newest sample: its gauges, and what a version 2 sample adds (mounts, services). */
export type LatestSample = { at: string } & Partial<Record<Gauge, number>> & {
    disks?: {
      mount: string;
      usedBytes: number;
      totalBytes: number;
      inodesUsed: number;
      inodesTotal: number;
    }[];
    services?: Partial<Record<'webServer' | 'phpFpm' | 'database' | 'redis', 'up' | 'down'>>;
  };

export interface ServerItem extends StoredItem {
  entity: 'server';
  id: string;
  tenantId: string;
  name: string;
  provider: (typeof providers)[number];
  region: string;
  size: string;
  stack: ServerStack;
  status: ServerStatus;
  /** the customer's own labels, for filtering lists */
  tags?: string[];
  hostId?: string;
  instanceId?: string;
  activationId?: string;
  ipv4?: string;
  lastOperationId: string;
  /** custom servers: the one line to run on the machine, until its agent registers */
  installCommand?: string;
  latest?: LatestSample;
  /** the newest sample's fleet entry, and the server's place in the fleet index (gsi2) */
  fleet?: FleetEntry;
  gsi2pk?: string;
  gsi2sk?: string;
  /** what the server was when its deletion began: an active server still holds a unit of quota */
  deletingFrom?: ServerStatus;
  /** the reboot under way, until it ends */
  rebootOperationId?: string;
  /** the stack change under way, until it ends */
  stackOperationId?: string;
  /** the host's boot as its last health check saw it; a hard reboot's check insists on another */
  bootId?: string;
  /** the public half of the host's own key (PEM), which secrets for the host are sealed to */
  hostKey?: string;
  /** how many sites are on it (each site's record, whatever its status) */
  siteCount?: number;
  /** how many databases and database users are on it (each record, whatever its status) */
  databaseCount?: number;
  databaseUserCount?: number;
  /** the database engine as the last database command found it */
  databaseEngine?: {
    state: 'up' | 'down';
    version?: string;
    /** where its clients reach it on the server: its socket (PostgreSQL: the socket's folder) and port */
    socket?: string;
    port?: number;
    checkedAt: string;
  };
  /** set while the tenant (or a tenant above it) is suspended */
  suspendedAt?: string;
  createdAt: string;
  updatedAt: string;
}

export const serverKeys = {
  item: (tenantId: string, serverId: string) => ({ pk: tenantPartition(tenantId), sk: `SERVER#${serverId}` }),
  prefix: 'SERVER#',
};

export function toServer(item: ServerItem) {
  return {
    id: item.id,
    name: item.name,
    provider: item.provider,
    region: item.region,
    size: item.size,
    stack: item.stack,
    status: item.status,
    tags: item.tags ?? [],
    suspended: item.suspendedAt !== undefined,
    rebooting: item.rebootOperationId !== undefined,
    changingStack: item.stackOperationId !== undefined,
    instanceId: item.instanceId ?? null,
    installCommand: item.installCommand ?? null,
    ipv4: item.ipv4 ?? null,
    siteCount: item.siteCount ?? 0,
    databaseCount: item.databaseCount ?? 0,
    databaseEngine: item.databaseEngine
      ? {
          state: item.databaseEngine.state,
          version: item.databaseEngine.version ?? null,
          checkedAt: item.databaseEngine.checkedAt,
        }
      : null,
    lastOperationId: item.lastOperationId,
    createdAt: item.createdAt,
    updatedAt: item.updatedAt,
  };
}

/** The gauges the fleet view ranks servers by; each is in the fleet index's projection. */
export const fleetGauges = [
  'cpuPercent',
  'memoryUsedPercent',
  'diskUsedPercent',
  'swapUsedPercent',
  'inodesUsedPercent',
  'load1',
] as const satisfies readonly Gauge[];
export type FleetGauge = (typeof fleetGauges)[number];

/** What the fleet index holds of a server's newest sample (small: the index is written with every sample). */
export type FleetEntry = { at: string } & Partial<Record<FleetGauge, number>>;

/**
 * A tenant's reporting servers in gsi2, sorted by CPU (hundredths of a percent, padded): the top
 * N by CPU is one Query; by another gauge or within a tag, a read of the partition, whose entries
 * are small (ids, name, status, tags, the fleet entry), about 5,000 servers a request.
 */
export const fleetIndex = {
  partition: (tenantId: string) => tenantSubPartition(tenantId, 'FLEET'),
  sortKey: (cpuPercent: number, serverId: string) =>
    `${String(Math.round(Math.min(100, Math.max(0, cpuPercent)) * 100)).padStart(5, '0')}#${serverId}`,
};

/** One server's newest sample, as the aggregator keeps it. */
export interface LatestWrite {
  tenantId: string;
  serverId: string;
  latest: LatestSample;
}

/**
 * Keeps each server's newest metrics sample on its item, with its fleet entry and place in the
 * fleet index; an older sample, or an unknown server's, changes nothing (`conflict`). Written 25
 * servers to a request (`inFlight` at once), each on its own condition; answers each write's
 * outcome in order, `failed` for one DynamoDB refused otherwise.
 */
export function setLatestSamples(store: Store, writes: LatestWrite[], inFlight = 1): Promise<BatchOutcome[]> {
  const table = partiqlName(store.tableName);
  return store.executeAll(
    writes.map(({ tenantId, serverId, latest }) => {
      const key = serverKeys.item(tenantId, serverId);
      const fleet: FleetEntry = {
        at: latest.at,
        ...Object.fromEntries(fleetGauges.flatMap((g) => (latest[g] === undefined ? [] : [[g, latest[g]]]))),
      };
      return {
        // an UPDATE changes only an item that exists
        statement: `UPDATE ${table} SET "latest" = ? SET "fleet" = ? SET "gsi2pk" = ? SET "gsi2sk" = ? WHERE "pk" = ? AND "sk" = ? AND ("latest" IS MISSING OR "latest"."at" < ?)`,
        parameters: [
          latest,
          fleet,
          fleetIndex.partition(tenantId),
          fleetIndex.sortKey(latest.cpuPercent ?? 0, serverId),
          key.pk,
          key.sk,
          latest.at,
        ],
      };
    }),
    inFlight,
  );
}

/** A server of this tenant, or a 404: another tenant's id is not found, never theirs. */
export async function serverOf(
  platform: { store: Store },
  tenantId: string,
  serverId: string,
): Promise<ServerItem> {
  const server = await platform.store.get<ServerItem>(serverKeys.item(tenantId, serverId), true);
  if (!server) throw errors.notFound('server');
  return server;
}
