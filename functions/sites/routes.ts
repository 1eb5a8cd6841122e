import * as z from 'zod';
import { route } from '../../layers/http/route';
import { operationSchema } from '../operations/spec';
import { listOf, pageQuery, problemSchema, tenantParams } from '../shared-schemas';
import {
  createSiteBody,
  listSitesQuery,
  problems,
  serverSitesParams,
  siteParams,
  siteSchema,
  updateSiteBody,
} from './spec';

const accepted = (description: string) => ({
  202: { description, schema: siteSchema.extend({ operation: operationSchema }) },
});
const busy = {
  409: { description: 'A change to the site, or to its server, is under way', schema: problemSchema },
};

export const sitesRoutes = [
  route({
    operationId: 'createSite',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/sites',
    context: 'sites',
    auth: 'user',
    permission: 'sites:write',
    summary:
      'Create a site on an active server; answers 202 with the site and the operation that puts it on the host',
    tags: ['sites'],
    params: serverSitesParams,
    body: createSiteBody,
    idempotent: true,
    responses: {
      ...accepted('Creating'),
      ...problems,
      409: {
        description: "The domain is another site's, the plan's limit is reached, or the server is busy",
        schema: problemSchema,
      },
    },
  }),
  route({
    operationId: 'listServerSites',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/servers/{serverId}/sites',
    context: 'sites',
    auth: 'user',
    permission: 'sites:read',
    summary: "The server's sites",
    tags: ['sites'],
    params: serverSitesParams,
    query: z.strictObject({ ...pageQuery }),
    responses: { 200: { description: 'A page of sites', schema: listOf(siteSchema) }, ...problems },
  }),
  route({
    operationId: 'listSites',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/sites',
    context: 'sites',
    auth: 'user',
    permission: 'sites:read',
    summary: "The tenant's sites on all its servers, filtered by status, type, server or domain",
    tags: ['sites'],
    params: tenantParams,
    query: listSitesQuery,
    responses: { 200: { description: 'A page of sites', schema: listOf(siteSchema) }, ...problems },
  }),
  route({
    operationId: 'getSite',
    method: 'GET',
    path: '/v1/tenants/{tenantId}/sites/{siteId}',
    context: 'sites',
    auth: 'user',
    permission: 'sites:read',
    summary: 'A site, with its ETag',
    tags: ['sites'],
    params: siteParams,
    responses: { 200: { description: 'The site', schema: siteSchema }, ...problems },
  }),
  route({
    operationId: 'updateSite',
    method: 'PATCH',
    path: '/v1/tenants/{tenantId}/sites/{siteId}',
    context: 'sites',
    auth: 'user',
    permission: 'sites:write',
    summary:
      'Change a site (aliases, PHP version and settings, redirects, basic auth, snippet); the host checks the new configuration before it reloads, and the site takes it once that succeeded',
    tags: ['sites'],
    params: siteParams,
    body: updateSiteBody,
    idempotent: true,
    responses: {
      ...accepted('Changing'),
      ...problems,
      ...busy,
      412: { description: 'If-Match names another version', schema: problemSchema },
    },
  }),
  route({
    operationId: 'deleteSite',
    method: 'DELETE',
    path: '/v1/tenants/{tenantId}/sites/{siteId}',
    context: 'sites',
    auth: 'user',
    permission: 'sites:write',
    summary:
      'Delete a site: its vhost, pool, files and user leave the host, then its record, domains and quota unit',
    tags: ['sites'],
    params: siteParams,
    responses: { 202: { description: 'Deleting', schema: operationSchema }, ...problems, ...busy },
  }),
  route({
    operationId: 'suspendSite',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/sites/{siteId}/suspend',
    context: 'sites',
    auth: 'user',
    permission: 'sites:write',
    summary: 'Serve the suspension page (503) instead of the site',
    tags: ['sites'],
    params: siteParams,
    idempotent: true,
    responses: { ...accepted('Suspending'), ...problems, ...busy },
  }),
  route({
    operationId: 'unsuspendSite',
    method: 'POST',
    path: '/v1/tenants/{tenantId}/sites/{siteId}/unsuspend',
    context: 'sites',
    auth: 'user',
    permission: 'sites:write',
    summary: 'Serve the site again',
    tags: ['sites'],
    params: siteParams,
    idempotent: true,
    responses: { ...accepted('Unsuspending'), ...problems, ...busy },
  }),
] as const;
