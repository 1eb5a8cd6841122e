import { route } from '../../layers/http/route';
import { accepted, busy } from './route-answers';
import { certificateSchema, certificateUploadBody, problems, siteParams } from './spec';

/** A site's certificate: ordered from an ACME directory, uploaded, or taken off. */
export const certificateRoutes = [
  route({
    operationId: 'getSiteCertificate',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/sites/{siteId}/certificate',
    context: 'sites',
    auth: 'user',
    permission: 'sites:read',
    summary: 'The certificate the site is served with over HTTPS (never its key)',
    tags: ['sites'],
    params: siteParams,
    responses: { 200: { description: 'The certificate', schema: certificateSchema }, ...problems },
  }),
  route({
    operationId: 'orderSiteCertificate',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/sites/{siteId}/certificate/order',
    context: 'sites',
    auth: 'user',
    permission: 'sites:write',
    summary:
      "Order a certificate for every domain of the site from the ACME directory (Let's Encrypt), proven by HTTP-01 through the site's web server; renewed 30 days before it expires",
    tags: ['sites'],
    params: siteParams,
    idempotent: true,
    responses: { ...accepted('Ordering'), ...problems, ...busy },
  }),
  route({
    operationId: 'uploadSiteCertificate',
    method: 'PUT',
    path: '/v1/tenants/{tenantId}/sites/{siteId}/certificate',
    context: 'sites',
    auth: 'user',
    permission: 'sites:write',
    summary:
      'Install a certificate of your own: its key must match, its chain complete, it valid now and covering every domain of the site',
    tags: ['sites'],
    params: siteParams,
    body: certificateUploadBody,
    idempotent: true,
    responses: { ...accepted('Installing'), ...problems, ...busy },
  }),
  route({
    operationId: 'removeSiteCertificate',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/sites/{siteId}/certificate',
    context: 'sites',
    auth: 'user',
    permission: 'sites:write',
    summary: 'Take the certificate off the site: it is served over plain HTTP only',
    tags: ['sites'],
    params: siteParams,
    responses: { ...accepted('Removing the certificate'), ...problems, ...busy },
  }),
] as const;
