import { refusedEndpoint } from '../../layers/net/public-address';
import type { Platform } from '../../layers/runtime/platform';

/**
 * Why each webhook of a body may not be called (not public HTTPS after DNS resolution), as field
 * problems `body.webhooks.N.url`: for alert rules and uptime checks alike.
 */
export async function webhookProblems(
  platform: Platform,
  webhooks: readonly { url: string }[] | undefined,
): Promise<{ path: string; message: string }[]> {
  const problems: { path: string; message: string }[] = [];
  for (const [n, webhook] of (webhooks ?? []).entries()) {
    const refused = await refusedEndpoint(webhook.url, platform.config.WEBHOOK_TARGETS_LOCAL);
    if (refused) problems.push({ path: `body.webhooks.${n}.url`, message: refused });
  }
  return problems;
}
