import {
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  GetApiKeysCommand,
  GetUsagePlansCommand,
} from '@aws-sdk/client-api-gateway';
import { apiGatewayClient } from '../../layers/aws/api-gateway';
import { resellerUsageKey } from '../../layers/config/resources';
import { type TenantItem, tenantKeys } from '../../layers/model/tenants';
import type { Platform } from '../../layers/runtime/platform';

let planIds: Map<string, string> | undefined;

/** A usage plan's id by its name (the CDK app names it; its id is known only once deployed). */
async function usagePlanIdOf(name: string): Promise<string> {
  if (!planIds?.has(name)) {
    planIds = new Map();
    let position: string | undefined;
    do {
      const page = await apiGatewayClient().send(new GetUsagePlansCommand({ limit: 500, position }));
      for (const plan of page.items ?? []) if (plan.name && plan.id) planIds.set(plan.name, plan.id);
      position = page.position;
    } while (position);
  }
  const id = planIds.get(name);
  if (!id) throw new Error(`No usage plan named ${name}`);
  return id;
}

const isConflict = (error: unknown) => (error as { name?: string }).name === 'ConflictException';

/**
 * A reseller's API Gateway usage key on the resellers' usage plan, created with its first
 * API token (and found again if an earlier attempt got part of the way). Answers the key's
 * value, which the authorizer hands API Gateway for each of the reseller's tokens; answers
 * undefined for a customer, or where the API has no usage plans.
 */
export async function ensureResellerUsageKey(
  platform: Platform,
  tenantId: string,
): Promise<string | undefined> {
  const { RESELLER_USAGE_PLAN_NAME: planName, STAGE } = platform.config;
  const tenant = await platform.store.get<TenantItem>(tenantKeys.item(tenantId));
  if (tenant?.kind !== 'reseller' || !planName) return undefined;
  const value = resellerUsageKey(STAGE, tenantId);
  if (tenant.usageKeyId) return value;
  const client = apiGatewayClient();
  const usagePlanId = await usagePlanIdOf(planName);
  let keyId: string | undefined;
  try {
    ({ id: keyId } = await client.send(
      new CreateApiKeyCommand({ name: value, value, enabled: true, tags: { tenant: tenantId } }),
    ));
  } catch (error) {
    if (!isConflict(error)) throw error;
    const { items } = await client.send(new GetApiKeysCommand({ nameQuery: value, includeValues: false }));
    keyId = items?.find((key) => key.name === value)?.id;
  }
  if (!keyId) throw new Error(`Usage key ${value} neither created nor found`);
  try {
    await client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId, keyType: 'API_KEY' }));
  } catch (error) {
    if (!isConflict(error)) throw error;
  }
  await platform.store.update(tenantKeys.item(tenantId), { usageKeyId: keyId });
  return value;
}
