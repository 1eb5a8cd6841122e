import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError, errors } from '../../layers/errors/app-error';
import { type SiteItem, siteKeys } from '../../layers/model/sites';
import type { Platform } from '../../layers/runtime/platform';
import { ConditionFailedError } from '../../layers/store/store';
import { putSiteSecret, readSiteSecret } from './secrets';

/** A delivery id is remembered this long, so a replay within it is ignored. */
const DELIVERY_MEMORY_SECONDS = 7 * 24 * 3600;

export const webhookPath = (site: Pick<SiteItem, 'tenantId' | 'id'>) =>
  `/v1/hooks/tenants/${site.tenantId}/sites/${site.id}/deploy`;

/** A new webhook secret for the site (replacing any): shown once, kept encrypted. */
export async function newWebhookSecret(platform: Platform, site: SiteItem): Promise<string> {
  const secret = randomBytes(32).toString('base64url');
  await putSiteSecret(platform, site, 'webhook', secret);
  await platform.store.update(siteKeys.item(site.tenantId, site.id), {
    webhook: { createdAt: platform.clock.now().toISOString() },
  });
  return secret;
}

const sameText = (a: string, b: string) => {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
};

const hmacHex = (secret: string, body: string) =>
  createHmac('sha256', secret).update(body, 'utf8').digest('hex');

/** What a push payload says of its branch: GitHub and GitLab `ref`, Bitbucket `push.changes`. */
interface PushPayload {
  ref?: unknown;
  /** GitHub's and GitLab's head commit after the push */
  after?: unknown;
  push?: { changes?: { new?: { type?: unknown; name?: unknown; target?: { hash?: unknown } } }[] };
}

/** A push as the three forges send it: who sent it, its delivery id, and the branch pushed. */
interface Push {
  forge: 'github' | 'gitlab' | 'bitbucket';
  delivery: string;
  event: string;
  branches: string[];
  /** the commit the branch points at after the push, where the forge says */
  head?: string;
}

const unauthorized = (detail: string) => new AppError('unauthorized', 401, 'Unauthorized', { detail });

/**
 * Reads and verifies a push: GitHub's `X-Hub-Signature-256` (HMAC-SHA256 of the body),
 * Bitbucket's `X-Hub-Signature` (the same), GitLab's `X-Gitlab-Token` (the secret itself),
 * each compared in constant time.
 */
function verify(headers: (name: string) => string | undefined, rawBody: string, secret: string): Push {
  const github = headers('x-hub-signature-256');
  const bitbucket = headers('x-hub-signature');
  const gitlab = headers('x-gitlab-token');
  let forge: Push['forge'];
  if (github !== undefined) {
    if (!sameText(github, `sha256=${hmacHex(secret, rawBody)}`))
      throw unauthorized('The X-Hub-Signature-256 does not match.');
    forge = 'github';
  } else if (gitlab !== undefined) {
    if (!sameText(gitlab, secret)) throw unauthorized('The X-Gitlab-Token does not match.');
    forge = 'gitlab';
  } else if (bitbucket !== undefined) {
    if (!sameText(bitbucket, `sha256=${hmacHex(secret, rawBody)}`))
      throw unauthorized('The X-Hub-Signature does not match.');
    forge = 'bitbucket';
  } else {
    throw unauthorized(
      'No signature: X-Hub-Signature-256 (GitHub), X-Gitlab-Token (GitLab) or X-Hub-Signature (Bitbucket).',
    );
  }
  let payload: PushPayload;
  try {
    payload = JSON.parse(rawBody) as PushPayload;
  } catch {
    throw errors.validation([{ path: 'body', message: 'Not JSON' }]);
  }
  const delivery =
    forge === 'github'
      ? headers('x-github-delivery')
      : forge === 'gitlab'
        ? headers('x-gitlab-event-uuid')
        : headers('x-request-uuid');
  const event =
    (forge === 'github'
      ? headers('x-github-event')
      : forge === 'gitlab'
        ? headers('x-gitlab-event')
        : headers('x-event-key')) ?? '';
  if (!delivery || !/^[A-Za-z0-9-]{8,100}$/.test(delivery)) {
    throw errors.validation([{ path: 'headers.delivery', message: "The forge's delivery id is missing" }]);
  }
  const branches =
    forge === 'bitbucket'
      ? (Array.isArray(payload.push?.changes) ? payload.push.changes : [])
          .filter((change) => change.new?.type === 'branch' && typeof change.new.name === 'string')
          .map((change) => change.new?.name as string)
      : typeof payload.ref === 'string' && payload.ref.startsWith('refs/heads/')
        ? [payload.ref.slice('refs/heads/'.length)]
        : [];
  const head =
    forge === 'bitbucket'
      ? payload.push?.changes?.[0]?.new?.target?.hash
      : typeof payload.after === 'string'
        ? payload.after
        : undefined;
  return {
    forge,
    delivery,
    event,
    branches,
    ...(typeof head === 'string' && /^[0-9a-f]{7,64}$/.test(head) ? { head } : {}),
  };
}

const PUSH_EVENTS = ['push', 'Push Hook', 'repo:push'];

/**
 * A push to the site's webhook: verified, only a push to the site's branch, and each push once:
 * a replay is answered and ignored, whether it comes with the same delivery id or a new one
 * (the delivery id is not signed; the body is), so what is remembered is the delivery id, the
 * body's digest and the head commit. What it starts is a deploy like any other.
 */
export async function receivePush(
  platform: Platform,
  site: SiteItem,
  request: { headers: (name: string) => string | undefined; rawBody: string },
  deploy: (site: SiteItem) => Promise<unknown>,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const secret = site.webhook ? await readSiteSecret(platform, site, 'webhook') : undefined;
  if (!secret) throw errors.notFound('site');
  const push = verify(request.headers, request.rawBody, secret);
  if (!PUSH_EVENTS.includes(push.event)) {
    throw errors.validation([
      { path: 'headers.event', message: `Only pushes deploy; this is ${push.event || 'no event'}` },
    ]);
  }
  const branch = site.spec.repository?.branch;
  if (!branch) throw errors.conflict('The site has no repository to deploy.');
  if (!push.branches.includes(branch)) {
    throw new AppError('not-the-branch', 422, 'Not the branch', {
      detail: `A push to ${push.branches.join(', ') || 'no branch'}; this site deploys ${branch}.`,
    });
  }
  const expiresAt = Math.floor(platform.clock.now().getTime() / 1000) + DELIVERY_MEMORY_SECONDS;
  const digest = createHash('sha256').update(request.rawBody).digest('hex');
  // the signed content first: a replay under a new delivery id is the same body
  for (const seen of [`body-${digest}`, ...(push.head ? [`commit-${push.head}`] : []), push.delivery]) {
    try {
      await platform.store.create({
        ...siteKeys.hookDelivery(site.tenantId, site.id, seen),
        entity: 'hook-delivery',
        expiresAt,
      });
    } catch (error) {
      if (error instanceof ConditionFailedError)
        return { status: 200, body: { ignored: 'This push was received before.' } };
      throw error;
    }
  }
  await deploy(site);
  return { status: 202, body: { deploying: branch, forge: push.forge } };
}
