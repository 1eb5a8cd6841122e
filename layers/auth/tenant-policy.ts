/**
 * Tenant-scoped data access: one IAM role that the API functions assume with a session tag
 * naming the tenant a request acts on. Its policy lets a session touch only items whose
 * partition key is that tenant's (`T#<tenant>` or `T#<tenant>#…`), through the
 * `dynamodb:LeadingKeys` condition key. Written once here: the CDK app builds the role's
 * policy from it, and the local runtime enforces the same patterns on tenant sessions.
 */

import { tenantPartition, tenantSubPartition } from '../model/keys';
import { domainClaimPartition } from '../model/sites';

/** The session tag that carries the tenant id. */
export const TENANT_SESSION_TAG = 'tenant';

/** What a tenant session may do on the table and its indexes. */
export const tenantDataActions = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:ConditionCheckItem',
] as const;

/**
 * The partition keys a tenant's session may use, as IAM StringLike patterns. The table's
 * own partition key and gsi1's both start with the tenant's prefix, so the same patterns
 * hold for index queries. Besides its own partitions, a session may use domain claims: a
 * domain is unique across the platform, so its claim is keyed by the domain alone and written
 * in the same transaction as the tenant's site (the sites service only ever removes a claim
 * that names its own tenant, as a condition of the delete).
 */
export const leadingKeyPatterns = (tenant: string): string[] => [
  tenantPartition(tenant),
  tenantSubPartition(tenant, '*'),
  domainClaimPartition('*'),
];

/** The patterns with IAM's policy variable in place of the tenant, as the role's policy carries them. */
export const leadingKeyPolicyPatterns = (): string[] =>
  leadingKeyPatterns(`\${aws:PrincipalTag/${TENANT_SESSION_TAG}}`);

/** The condition block of the role's policy statement. */
export const leadingKeysCondition = () => ({
  'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': leadingKeyPolicyPatterns() },
});

/** IAM's StringLike: `*` matches any run of characters, `?` any one; everything else literally. */
export function stringLike(value: string, pattern: string): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 's').test(value);
}

/**
 * Whether a session tagged with `tenant` may use all these partition keys: the
 * `ForAllValues:StringLike` condition of the role's policy, with the tag substituted as
 * IAM substitutes `${aws:PrincipalTag/tenant}`.
 */
export const tenantMayUse = (tenant: string, partitionKeys: string[]): boolean =>
  partitionKeys.every((key) => leadingKeyPatterns(tenant).some((pattern) => stringLike(key, pattern)));

/** Tenant ids as the trust policy accepts them in the session tag. */
export const TENANT_TAG_PATTERN = 'ten_*';
