import type { TransactItem } from '../store/store';
import { tenantPartition } from './keys';
import { limitAttribute, type Quota, usedAttribute } from './plans';
import type { ServerStatus } from './servers';
import type { SiteStatus } from './sites';

/**
 * A tenant's counters item: its servers by status (kept in the same transaction as every
 * status change, so the dashboard reads counts, never a scan), its owners, its plan's limits
 * and its use of each quota (functions/plans/quota.ts).
 */
export const counterKeys = {
  item: (tenantId: string) => ({ pk: tenantPartition(tenantId), sk: 'COUNTERS' }),
};

/** The attribute that counts a tenant's servers in one status. */
export const counterAttribute = (status: ServerStatus): string => `servers_${status}`;

/** The attribute that counts a tenant's sites in one status. */
export const siteCounterAttribute = (status: SiteStatus): string => `sites_${status}`;

/**
 * One update of a tenant's counters item, for a transaction with the change it counts: a
 * server moving between statuses, an owner joining or leaving, a unit of quota taken or given
 * back. Taking quota holds only while use is below the plan's limit (no limit: unlimited), so
 * concurrent creates cannot overshoot; keeping an owner holds only while another remains.
 */
export function countersChange(
  tenantId: string,
  change: {
    servers?: { from?: ServerStatus; to?: ServerStatus };
    sites?: { from?: SiteStatus; to?: SiteStatus };
    owners?: number;
    keepAnOwner?: boolean;
    takeQuota?: Quota;
    giveBackQuota?: Quota;
  },
): TransactItem {
  const adds: string[] = [];
  const conditions: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const add = (placeholder: string, attribute: string, delta: number) => {
    names[`#${placeholder}`] = attribute;
    values[`:${placeholder}`] = delta;
    adds.push(`#${placeholder} :${placeholder}`);
  };
  if (change.servers?.from) add('from', counterAttribute(change.servers.from), -1);
  if (change.servers?.to) add('to', counterAttribute(change.servers.to), 1);
  if (change.sites?.from) add('siteFrom', siteCounterAttribute(change.sites.from), -1);
  if (change.sites?.to) add('siteTo', siteCounterAttribute(change.sites.to), 1);
  if (change.owners) add('owners', 'owners', change.owners);
  if (change.keepAnOwner) {
    names['#owners'] = 'owners';
    values[':oneOwner'] = 1;
    conditions.push('#owners > :oneOwner');
  }
  if (change.takeQuota) {
    add('quotaUsed', usedAttribute(change.takeQuota), 1);
    names['#quotaLimit'] = limitAttribute(change.takeQuota);
    values[':quotaZero'] = 0;
    conditions.push(
      'attribute_exists(pk)',
      '(attribute_not_exists(#quotaLimit) OR #quotaUsed < #quotaLimit OR (attribute_not_exists(#quotaUsed) AND #quotaLimit > :quotaZero))',
    );
  }
  if (change.giveBackQuota) add('quotaReturned', usedAttribute(change.giveBackQuota), -1);
  return {
    Update: {
      Key: counterKeys.item(tenantId),
      UpdateExpression: `ADD ${adds.join(', ')}`,
      ...(conditions.length > 0 ? { ConditionExpression: conditions.join(' AND ') } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    },
  };
}

/**
 * Bytes added to (or, negative, given back from) a quota measured in bytes, such as the backup
 * storage a tenant uses; for a transaction with the change it measures. The plan's limit is
 * checked when work starts (a backup's size is known only once it is made).
 */
export function quotaBytes(tenantId: string, quota: Quota, delta: number): TransactItem {
  return {
    Update: {
      Key: counterKeys.item(tenantId),
      UpdateExpression: 'ADD #used :delta',
      ExpressionAttributeNames: { '#used': usedAttribute(quota) },
      ExpressionAttributeValues: { ':delta': delta },
    },
  };
}
