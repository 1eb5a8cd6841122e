import { sealFor } from '../../../layers/crypto/sealed';
import { recordSteps } from '../../../layers/model/operations';
import { type ServerItem, serverKeys } from '../../../layers/model/servers';
import { domainsOf, type SiteCertificate, type SiteItem, siteKeys } from '../../../layers/model/sites';
import { logger, metrics } from '../../../layers/observability/logger';
import type { Platform } from '../../../layers/runtime/platform';
import type { TaskHandlers } from '../../../layers/runtime/tasks';
import { ConditionFailedError } from '../../../layers/store/store';
import { recordStarted } from '../../operations/service';
import { commandOutput, type Invocation } from '../../servers/commands/invocation';
import { failureError } from '../../servers/provisioning/tasks';
import { documentSafe } from '../../servers/stack/service';
import { readEnvironment } from '../environment';
import { applyBundle, challengeBundle } from '../render/bundle';
import { putSiteSecret } from '../secrets';
import { settleSite } from '../settle';
import { acmeClient, completeOrder, orderCertificate, type PlacedChallenge, txtRecords } from './acme';
import { deleteTxt, hostedZoneOf, putTxt } from './dns';
import type { CertificateInput } from './input';
import { checkCertificate } from './pem';
import { sweepCertificates } from './sweep';

/** Where the workflow is: the next phase, and what the order phase learnt. */
interface StepState {
  next: 'order' | 'validate' | 'install';
  order?: { orderUrl: string; challenges: PlacedChallenge[] };
}

export type CertificateTaskEvent =
  | { action: 'certificateStep'; input: CertificateInput; step: StepState; invocation?: Invocation | null }
  | {
      action: 'certificateFailed';
      input: CertificateInput;
      failure: { Error?: string; Cause?: string };
      state?: { invocation?: Invocation; step?: StepState };
    }
  /** the scheduled sweep (EventBridge Scheduler): renewals and expiry warnings */
  | { action: 'certificateSweep'; input: { correlationId: string } };

const at = (platform: Platform) => platform.clock.now().toISOString();

async function loadSite(platform: Platform, input: CertificateInput) {
  const site = await platform.store.get<SiteItem>(siteKeys.item(input.tenantId, input.siteId), true);
  if (!site || site.operationId !== input.operationId || !site.pending) {
    throw new Error(`Site ${input.siteId} is no longer waiting for operation ${input.operationId}`);
  }
  return { site, pending: site.pending };
}

/** The site document's parameters for a bundle. */
const siteDocument = (input: CertificateInput, site: SiteItem, bundle: string) => ({
  action: ['apply'],
  siteUser: [site.systemUser],
  bundleBase64: [bundle],
  correlationId: [documentSafe(input.correlationId)],
});

/**
 * One phase of an ACME issuance, as the workflow loops through them: `order` places the order
 * and answers with the challenges' files for the host; `validate` (once the host serves them)
 * has the CA check them, finalizes with a new key and answers with the site's configuration
 * with the certificate; `install` (once the host took it) settles the site and the operation.
 */
async function step(
  platform: Platform,
  input: CertificateInput,
  state: StepState,
  invocation?: Invocation | null,
) {
  const { site, pending } = await loadSite(platform, input);
  const domains = domainsOf(pending.spec);
  switch (state.next) {
    case 'order': {
      await recordStarted(platform.store, input, at(platform), 'order');
      const client = await acmeClient(platform, input.directoryUrl);
      const order = await orderCertificate(client, domains, hostedZoneOf);
      // DNS-01's records go in before the CA is asked to look; HTTP-01's files go to the host next
      for (const record of txtRecords(order.challenges)) await putTxt(record);
      const now = at(platform);
      await recordSteps(platform.store, input, now, {
        order: { status: 'succeeded', endedAt: now, output: { domains, orderUrl: order.orderUrl } },
        validate: { status: 'running', startedAt: now },
      });
      return {
        next: 'validate',
        order,
        parameters: siteDocument(
          input,
          site,
          challengeBundle(order.challenges.filter((c) => c.type === 'http-01')),
        ),
      } satisfies StepState & { parameters: unknown };
    }
    case 'validate': {
      if (!state.order) throw new Error('The order phase left no order');
      const client = await acmeClient(platform, input.directoryUrl);
      const issued = await completeOrder(client, state.order, domains).finally(() =>
        Promise.all(txtRecords(state.order?.challenges ?? []).map(deleteTxt)),
      );
      const now = platform.clock.now();
      const checked = checkCertificate(
        { certificate: issued.chainPem, privateKey: issued.keyPem },
        domains,
        now,
      );
      const server = await platform.store.get<ServerItem>(
        serverKeys.item(input.tenantId, input.serverId),
        true,
      );
      if (!server?.hostKey)
        throw new Error('The server has not reported the host key the certificate key is sealed to');
      await putSiteSecret(platform, site, 'tls-key', checked.keyPem);
      const certificate: SiteCertificate = {
        source: 'acme',
        domains: checked.domains,
        issuer: checked.issuer,
        serialNumber: checked.serialNumber,
        fingerprint256: checked.fingerprint256,
        notBefore: checked.notBefore,
        notAfter: checked.notAfter,
        chainPem: checked.chainPem,
        installedAt: now.toISOString(),
        directoryUrl: input.directoryUrl,
      };
      try {
        await platform.store.update(
          siteKeys.item(input.tenantId, input.siteId),
          { pending: { ...pending, certificate } },
          { where: { equals: { operationId: input.operationId } } },
        );
      } catch (error) {
        if (error instanceof ConditionFailedError) throw new Error('The site left this operation meanwhile');
        throw error;
      }
      const seal = (plaintext: string) => sealFor(server.hostKey as string, plaintext);
      const variables = await readEnvironment(platform, site);
      const bundle = applyBundle(
        site,
        pending.spec,
        pending.suspended || pending.tenantSuspended === true,
        server.stack,
        {
          environment: variables && Object.keys(variables).length > 0 ? variables : undefined,
          seal,
          previousDaemons: (site.spec.daemons ?? []).map((d) => d.name),
          tls: { chainPem: checked.chainPem, sealedKey: seal(checked.keyPem) },
          doneChallenges: state.order.challenges.filter((c) => c.type === 'http-01').map((c) => c.token),
        },
      );
      const done = now.toISOString();
      await recordSteps(platform.store, input, done, {
        validate: {
          status: 'succeeded',
          endedAt: done,
          output: { issuer: checked.issuer, notAfter: checked.notAfter, serialNumber: checked.serialNumber },
        },
        install: { status: 'running', startedAt: done },
      });
      return { next: 'install', parameters: siteDocument(input, site, bundle) };
    }
    case 'install': {
      const output = invocation ? commandOutput(invocation) : undefined;
      const now = at(platform);
      await settleSite(platform.store, { ...input, kind: 'issue-certificate' }, true, {
        output,
        at: now,
        platform,
      });
      await recordSteps(
        platform.store,
        input,
        now,
        { install: { status: 'succeeded', endedAt: now, ...(output ? { output } : {}) } },
        { status: 'succeeded', result: { siteId: input.siteId } },
      );
      return { next: 'done' };
    }
  }
}

/** The issuance failed: the site keeps what it served, and says why its certificate did not come. */
async function failed(
  platform: Platform,
  input: CertificateInput,
  failure: { Error?: string; Cause?: string },
  state?: { invocation?: Invocation; step?: StepState },
) {
  const now = at(platform);
  const output = state?.invocation ? commandOutput(state.invocation) : undefined;
  const said = output?.stderr.trim();
  const error = said
    ? {
        code: failure.Error ?? 'CommandFailed',
        message: said.split('\n').slice(-5).join('\n').slice(0, 2000),
      }
    : failureError(failure);
  await settleSite(platform.store, { ...input, kind: 'issue-certificate' }, false, {
    output,
    at: now,
    platform,
  });
  const ref = siteKeys.item(input.tenantId, input.siteId);
  const site = await platform.store.get<SiteItem>(ref, true);
  if (site?.certificate) {
    // a renewal that failed: the operator hears of it (an alarm on the metric), the site's
    // owner sees it on the certificate, and a later sweep tries again
    logger.error('A site certificate renewal failed', {
      tenantId: input.tenantId,
      siteId: input.siteId,
      operationId: input.operationId,
      notAfter: site.certificate.notAfter,
      message: error.message,
    });
    metrics.addMetric('CertificateRenewalFailed', 'Count', 1);
  }
  if (site) {
    try {
      const lastFailure = { at: now, operationId: input.operationId, message: error.message };
      await platform.store.update(ref, { certificateState: { ...site.certificateState, lastFailure } });
    } catch (cause) {
      // a site deleted meanwhile has nothing to say
      if (!(cause instanceof ConditionFailedError)) throw cause;
    }
  }
  const phase = state?.step?.next ?? 'order';
  await recordSteps(
    platform.store,
    input,
    now,
    { [phase]: { status: 'failed', endedAt: now, error, ...(output ? { output } : {}) } },
    { status: 'failed', error },
  );
  return {};
}

/** The issue-certificate workflow's tasks. */
export const certificateTasks: TaskHandlers<CertificateTaskEvent> = {
  certificateStep: (platform, event) => step(platform, event.input, event.step, event.invocation),
  certificateFailed: (platform, event) => failed(platform, event.input, event.failure, event.state),
  certificateSweep: (platform) => sweepCertificates(platform),
};
