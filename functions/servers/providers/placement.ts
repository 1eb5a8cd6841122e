import { createHash } from 'node:crypto';
import { errors } from '../../../layers/errors/app-error';
import type { CloudProviderName, ProviderName } from '../../../layers/model/servers';
import type { Store } from '../../../layers/store/store';
import { readToken } from './credentials';
import { cloudProviderClient } from './index';
import { ProviderAuthError, type ProviderChoice, ProviderTransientError } from './provider';

const LOCAL = { region: 'local-1', size: 'small' };

/** What `local` offers: this machine. */
const localChoices = {
  regions: [{ id: LOCAL.region, description: 'This machine' }],
  sizes: [{ id: LOCAL.size, description: 'A sandboxed host on this machine' }],
};

/** Regions and sizes change rarely: a function instance keeps what a provider said for a few minutes. */
const CHOICES_TTL_MS = 5 * 60_000;
const choicesCache = new Map<string, { at: number; regions: ProviderChoice[]; sizes: ProviderChoice[] }>();

async function choicesOf(provider: CloudProviderName, token: string, region: string | undefined) {
  // per token: another account may be offered other sizes; per region: EC2's sizes are regional
  const key = `${provider}:${createHash('sha256').update(token).digest('hex')}:${provider === 'aws' ? region : ''}`;
  const cached = choicesCache.get(key);
  if (cached && Date.now() - cached.at < CHOICES_TTL_MS) return cached;
  const client = cloudProviderClient(provider, token, region);
  // EC2 is asked for sizes in the region itself, which must be one of its regions (a made-up one
  // has no endpoint to answer); the others list both at once
  let regions: ProviderChoice[];
  let sizes: ProviderChoice[];
  if (provider === 'aws') {
    regions = await client.listRegions();
    sizes = !region || regions.some((r) => r.id === region) ? await client.listSizes() : [];
  } else {
    [regions, sizes] = await Promise.all([client.listRegions(), client.listSizes()]);
  }
  const fresh = { at: Date.now(), regions, sizes };
  choicesCache.set(key, fresh);
  return fresh;
}

const choiceList = (choices: ProviderChoice[]) =>
  choices
    .slice(0, 12)
    .map((c) => c.id)
    .join(', ');

/**
 * The regions and sizes a provider offers the tenant: `local`, this machine; a cloud provider,
 * what it answers with the tenant's saved token (EC2's sizes in `region`). Problems name
 * `field`: no saved credentials, a token the provider now rejects; a provider that cannot be
 * reached is a 503 with Retry-After.
 */
export async function providerChoices(
  store: Store,
  tenantId: string,
  provider: CloudProviderName | 'local',
  region: string | undefined,
  field: string,
): Promise<{ regions: ProviderChoice[]; sizes: ProviderChoice[] }> {
  if (provider === 'local') return localChoices;
  const token = await readToken(store, tenantId, provider);
  if (!token) {
    throw errors.validation([
      {
        path: field,
        message: `No ${provider} credentials saved: PUT /v1/tenants/${tenantId}/provider-credentials/${provider} first`,
      },
    ]);
  }
  try {
    const { regions, sizes } = await choicesOf(provider, token, region);
    return { regions, sizes };
  } catch (error) {
    if (error instanceof ProviderAuthError) {
      throw errors.validation([{ path: field, message: `${provider} rejects the saved token` }]);
    }
    if (error instanceof ProviderTransientError)
      throw errors.providerUnavailable(provider, error.retryAfterSeconds);
    throw error;
  }
}

/**
 * Where a new server goes: for `local`, this machine; for a cloud provider, a region and a
 * size it offers, checked against its API with the tenant's saved token before anything is
 * written. Each problem names the field: no saved credentials (body.provider), a token the
 * provider now rejects (body.provider), an unknown region or size (with the valid ones).
 */
export async function resolvePlacement(
  store: Store,
  tenantId: string,
  input: { provider: ProviderName; region?: string | undefined; size?: string | undefined },
): Promise<{ region: string; size: string }> {
  if (input.provider === 'local')
    return { region: input.region ?? LOCAL.region, size: input.size ?? LOCAL.size };
  if (input.provider === 'custom') return { region: input.region ?? 'custom', size: input.size ?? 'custom' };
  const missing = (['region', 'size'] as const).filter((field) => input[field] === undefined);
  if (missing.length > 0) {
    throw errors.validation(
      missing.map((field) => ({ path: `body.${field}`, message: `Required for ${input.provider}` })),
    );
  }
  const { regions, sizes } = await providerChoices(
    store,
    tenantId,
    input.provider,
    input.region,
    'body.provider',
  );
  const wrong = [];
  if (!regions.some((r) => r.id === input.region)) {
    wrong.push({
      path: 'body.region',
      message: `Not a ${input.provider} region; one of ${choiceList(regions)}`,
    });
  }
  if (!sizes.some((s) => s.id === input.size)) {
    wrong.push({ path: 'body.size', message: `Not a ${input.provider} size; one of ${choiceList(sizes)}` });
  }
  if (wrong.length > 0) throw errors.validation(wrong);
  return { region: input.region as string, size: input.size as string };
}
