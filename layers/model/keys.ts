/**
 * The one place a tenant's partition key is spelled. Every key of a tenant-owned item starts
 * with it, and the tenant data role's IAM condition (`dynamodb:LeadingKeys`) is built from it,
 * so what the code writes and what IAM allows cannot drift apart.
 */
export const tenantPartition = (tenantId: string): string => `T#${tenantId}`;

/**
 * A partition of a tenant's beside its main one (its audit log, a server's rollups, an index
 * partition): the tenant's partition, then the parts. Covered by the same IAM condition.
 */
export const tenantSubPartition = (tenantId: string, ...parts: string[]): string =>
  [tenantPartition(tenantId), ...parts].join('#');
