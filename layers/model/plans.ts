import type { StoredItem } from '../store/store';
import { tenantPartition } from './keys';

/** What a plan limits; each is also a usage counter on the tenant's counters item. */
export const quotas = [
  'servers',
  'sites',
  'databases',
  'mailboxes',
  'dnsZones',
  'backupRetentionDays',
  'backupStorageBytes',
] as const;
export type Quota = (typeof quotas)[number];

export interface PlanItem extends StoredItem {
  entity: 'plan';
  id: string;
  ownerTenantId: string;
  name: string;
  limits: Record<Quota, number>;
  /** the API rate limit of each principal of a tenant on this plan */
  requestsPerMinute?: number;
  createdAt: string;
}

export const planKeys = {
  item: (ownerTenantId: string, planId: string) => ({
    pk: tenantPartition(ownerTenantId),
    sk: `PLAN#${planId}`,
  }),
  prefix: 'PLAN#',
  /** a customer on a plan, beside the plan, so a changed plan reaches its customers */
  customer: (ownerTenantId: string, planId: string, customerId: string) => ({
    pk: tenantPartition(ownerTenantId),
    sk: `PLANCUSTOMER#${planId}#${customerId}`,
  }),
  customersPrefix: (planId: string) => `PLANCUSTOMER#${planId}#`,
};

export interface PlanCustomerItem extends StoredItem {
  entity: 'plan-customer';
  planId: string;
  customerId: string;
}

/** On the counters item: `limit_servers` (absent means unlimited) and `used_servers`. */
export const limitAttribute = (quota: Quota) => `limit_${quota}`;
export const usedAttribute = (quota: Quota) => `used_${quota}`;

export const toPlan = (item: PlanItem) => ({
  id: item.id,
  name: item.name,
  limits: item.limits,
  requestsPerMinute: item.requestsPerMinute ?? null,
  createdAt: item.createdAt,
});
