import type { SiteItem } from '../../layers/model/sites';
import { siteKeys } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import { ConditionFailedError } from '../../layers/store/store';
import { deploySite } from './deploys';

/**
 * Brings a new staging site its live site's files, once the site itself is on its host (its
 * creation's settling starts this): a deploy of the staging site, as any other.
 */
export async function cloneIntoStaging(platform: Platform, staging: SiteItem, requestId: string) {
  const from = staging.staging?.from;
  if (!from || staging.staging?.cloneOperationId) return;
  const started = await deploySite(
    platform,
    staging,
    requestId,
    'sourceUser' in from
      ? { copyFrom: { user: from.sourceUser, webRoot: from.webRoot, copyShared: true } }
      : { commit: from.commit },
  );
  try {
    await platform.store.update(siteKeys.item(staging.tenantId, staging.id), {
      staging: { ...staging.staging, cloneOperationId: started.operation.id },
    });
  } catch (error) {
    if (!(error instanceof ConditionFailedError)) throw error;
  }
  return started;
}
