import type * as z from 'zod';
import { sfnClient } from '../../../layers/aws/sfn';
import { documentName } from '../../../layers/config/resources';
import { errors } from '../../../layers/errors/app-error';
import type { ServerItem } from '../../../layers/model/servers';
import { domainsOf, type SiteItem } from '../../../layers/model/sites';
import type { Platform } from '../../../layers/runtime/platform';
import { machineArn } from '../../servers/runs';
import { startOnServer } from '../../servers/server-operations';
import { noHostKey, sealerOf, startChange } from '../change';
import { putSiteSecret } from '../secrets';
import type { certificateUploadBody } from '../spec';
import { type CertificateInput, certificateSteps } from './input';
import { checkCertificate } from './pem';

/** A certificate goes only where the renderers serve it, and only sealed to a host that has a key. */
function certifiable(server: ServerItem) {
  if (server.stack.webServer === 'openlitespeed') {
    throw errors.conflict('Sites on OpenLiteSpeed servers cannot take certificates yet.');
  }
  if (!server.hostKey) throw noHostKey();
}

/**
 * Orders a certificate for every domain of the site from the platform's ACME directory, by
 * DNS-01 where the domain's zone is in the platform's Route 53 (wildcards need it), HTTP-01
 * through the site's own web server otherwise, as a change of the site (the issue-certificate
 * workflow): the site keeps serving as it did until the certificate is installed and checked.
 */
export async function orderSiteCertificate(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  server: ServerItem,
  directoryUrl = site.certificate?.directoryUrl ?? platform.config.ACME_DIRECTORY_URL,
) {
  certifiable(server);
  return startChange(platform, site, {
    requestId,
    spec: site.spec,
    suspended: site.suspended,
    hostCommand: {
      kind: 'issue-certificate',
      start: (_server, alongside) =>
        startOnServer(
          { ...platform, sfn: sfnClient(), stateMachineArn: machineArn(platform, 'issue-certificate') },
          {
            tenantId: site.tenantId,
            serverId: site.serverId,
            correlationId: requestId,
            kind: 'issue-certificate',
            steps: certificateSteps,
            workflow: 'issue-certificate',
            alongside,
            input: (operationId): CertificateInput => ({
              tenantId: site.tenantId,
              serverId: site.serverId,
              siteId: site.id,
              operationId,
              correlationId: requestId,
              kind: 'issue-certificate',
              instanceId: server.instanceId ?? '',
              documentName: documentName(platform.config.DOCUMENT_NAME_PREFIX, 'site'),
              directoryUrl,
            }),
          },
        ),
    },
  });
}

/**
 * Installs a certificate the customer uploads: checked first (key, chain, validity, the site's
 * domains), its key kept encrypted, then put on the host sealed, as a change of the site.
 */
export async function uploadSiteCertificate(
  platform: Platform,
  site: SiteItem,
  requestId: string,
  server: ServerItem,
  body: z.output<typeof certificateUploadBody>,
) {
  certifiable(server);
  const now = platform.clock.now();
  const checked = checkCertificate(body, domainsOf(site.spec), now);
  const seal = sealerOf(server);
  if (!seal) throw noHostKey();
  await putSiteSecret(platform, site, 'tls-key', checked.keyPem);
  const { keyPem, ...certificate } = checked;
  return startChange(platform, site, {
    requestId,
    spec: site.spec,
    suspended: site.suspended,
    certificate: {
      certificate: { ...certificate, source: 'custom', installedAt: now.toISOString() },
      sealedKey: seal(keyPem),
    },
  });
}

/** Takes the site's certificate off: it is served over plain HTTP only again. */
export async function removeSiteCertificate(platform: Platform, site: SiteItem, requestId: string) {
  if (!site.certificate) throw errors.notFound('certificate');
  return startChange(platform, site, {
    requestId,
    spec: site.spec,
    suspended: site.suspended,
    certificate: 'remove',
  });
}
