import { describe, expect, it } from 'vitest';
import { apiTokenKeys } from '../model/api-tokens';
import { auditKeys } from '../model/audit-log';
import { counterKeys } from '../model/counters';
import { operationKeys } from '../model/operations';
import { rollupKeys } from '../model/rollups';
import { serverKeys } from '../model/servers';
import { domainClaimKeys, siteKeys } from '../model/sites';
import { tenantKeys } from '../model/tenants';
import { userKeys } from '../model/users';
import { leadingKeyPolicyPatterns, stringLike, tenantMayUse } from './tenant-policy';

const alice = 'ten_01jh000000000000000000000a';
const bob = 'ten_01jh000000000000000000000b';

/** Every partition key the tenant-data contexts build for a tenant. */
const tenantDataKeys = (tenant: string) => [
  serverKeys.item(tenant, 'srv_1').pk,
  counterKeys.item(tenant).pk,
  operationKeys.item(tenant, 'op_1').pk,
  operationKeys.byTarget(tenant, 'srv_1').gsi1pk,
  rollupKeys.partition(tenant, 'srv_1'),
  auditKeys.partition(tenant),
  tenantKeys.item(tenant).pk,
  siteKeys.item(tenant, 'ste_1').pk,
  siteKeys.onServer(tenant, 'srv_1', 'ste_1').gsi1pk,
];

describe('Module: tenant data policy', () => {
  it("lets a tenant's session use every key the tenant-data contexts build for it", () => {
    for (const key of tenantDataKeys(alice)) expect(tenantMayUse(alice, [key]), key).toBe(true);
  });

  it("refuses another tenant's keys, alone or mixed with its own", () => {
    for (const key of tenantDataKeys(bob)) expect(tenantMayUse(alice, [key]), key).toBe(false);
    expect(tenantMayUse(alice, [serverKeys.item(alice, 'srv_1').pk, serverKeys.item(bob, 'srv_1').pk])).toBe(
      false,
    );
  });

  it('refuses a tenant id that only starts like this one, and the platform-wide keys', () => {
    expect(tenantMayUse(alice, [`T#${alice}x`])).toBe(false);
    expect(tenantMayUse(alice, [`T#${alice}x#AUDIT`])).toBe(false);
    expect(tenantMayUse(alice, [userKeys.email('a@example.com').pk])).toBe(false);
    expect(tenantMayUse(alice, [apiTokenKeys.item('tok_1').pk])).toBe(false);
  });

  it('lets every tenant use domain claims, which are keyed by the domain alone', () => {
    expect(
      tenantMayUse(alice, [domainClaimKeys.item('example.com').pk, siteKeys.item(alice, 'ste_1').pk]),
    ).toBe(true);
    expect(tenantMayUse(alice, ['DOMAINS'])).toBe(false);
  });

  it("matches as IAM's StringLike does", () => {
    expect(stringLike('T#a#b', 'T#a#*')).toBe(true);
    expect(stringLike('T#a', 'T#a#*')).toBe(false);
    expect(stringLike('T#ab', 'T#a?')).toBe(true);
    expect(stringLike('T.a', 'T#a')).toBe(false);
    expect(stringLike('T#a(b)', 'T#a(b)')).toBe(true);
  });

  it('writes the patterns with the session-tag variable for the role policy', () => {
    expect(leadingKeyPolicyPatterns()).toEqual([
      // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a template
      'T#${aws:PrincipalTag/tenant}',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: the same variable, for the tenant's subkeys
      'T#${aws:PrincipalTag/tenant}#*',
      'DOMAIN#*',
    ]);
  });
});
