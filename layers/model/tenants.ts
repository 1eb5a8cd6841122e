import type { StoredItem } from '../store/store';
import { tenantPartition } from './keys';

export const tenantKinds = ['reseller', 'customer'] as const;
export type TenantKind = (typeof tenantKinds)[number];

/** How deep the tenant tree goes: a top-level tenant is at depth 1. */
export const MAX_TENANT_DEPTH = 3;

export interface TenantItem extends StoredItem {
  entity: 'tenant';
  id: string;
  name: string;
  kind: TenantKind;
  /** `deleting` while its items are being removed: nobody of it signs in any more */
  status: 'active' | 'suspended' | 'deleting';
  parentId?: string;
  /** every tenant above this one, top first: a tenant may act on another only if it is among them */
  ancestors: string[];
  suspension?: { reason: string; at: string; by: string };
  /** its users must sign in with a second factor before they may do anything but enroll */
  requireTwoFactor?: boolean;
  /** a reseller's API Gateway usage key, once it has one */
  usageKeyId?: string;
  createdAt: string;
  updatedAt?: string;
}

/** A parent's link to a direct child, so a reseller lists its customers with one Query. */
export interface ChildLinkItem extends StoredItem {
  entity: 'child';
  id: string;
  name: string;
  kind: TenantKind;
  status: TenantItem['status'];
  createdAt: string;
}

export const tenantKeys = {
  /** a tenant's own record */
  item: (tenantId: string) => ({ pk: tenantPartition(tenantId), sk: 'TENANT' }),
  /** a parent's link to a direct child */
  child: (parentId: string, childId: string) => ({ pk: tenantPartition(parentId), sk: `CHILD#${childId}` }),
  childPrefix: 'CHILD#',
};

export const toTenant = (item: TenantItem) => ({
  id: item.id,
  name: item.name,
  kind: item.kind,
  status: item.status,
  parentId: item.parentId ?? null,
  suspension: item.suspension ?? null,
  requireTwoFactor: item.requireTwoFactor ?? false,
  createdAt: item.createdAt,
});
