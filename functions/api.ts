import type { ContextDefinition } from '../layers/http/context';
import type { RouteSpec } from '../layers/http/route';
import { alertsContext } from './alerts/context';
import { auditContext } from './audit/context';
import { authContext } from './auth/context';
import { backupsContext } from './backups/context';
import { databasesContext } from './databases/context';
import { membersContext } from './members/context';
import { metricsContext } from './metrics/context';
import { operationsContext } from './operations/context';
import { plansContext } from './plans/context';
import { platformContext } from './platform/context';
import { serversContext } from './servers/context';
import { sitesContext } from './sites/context';
import { statusPagesContext } from './status-pages/context';
import { tenantsContext } from './tenants/context';
import { tokensContext } from './tokens/context';
import { uptimeContext } from './uptime/context';

/**
 * Every bounded context of the API, each described by its own definition. The CDK app, the
 * local runtime, the OpenAPI document and the IAM policies iterate this list: a new context is
 * its folder and one line here.
 */
export const contexts: readonly ContextDefinition[] = [
  platformContext,
  authContext,
  tenantsContext,
  serversContext,
  sitesContext,
  databasesContext,
  backupsContext,
  operationsContext,
  metricsContext,
  alertsContext,
  uptimeContext,
  statusPagesContext,
  auditContext,
  tokensContext,
  membersContext,
  plansContext,
];

/** Every route of the API. The CDK app, the local gateway and the OpenAPI document read this list. */
export const routes: readonly RouteSpec[] = contexts.flatMap((context) => context.routes);
