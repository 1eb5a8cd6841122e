import type { RouteSpec } from '../layers/http/route';
import { auditRoutes } from './audit/spec';
import { authRoutes } from './auth/spec';
import { memberRoutes } from './members/spec';
import { metricsRoutes } from './metrics/spec';
import { operationRoutes } from './operations/spec';
import { planRoutes } from './plans/spec';
import { platformRoutes } from './platform/spec';
import { serverRoutes } from './servers/spec';
import { tenantRoutes } from './tenants/spec';
import { tokenRoutes } from './tokens/spec';

/** Every route of the API. The CDK app, the local gateway and the OpenAPI document read this list. */
export const routes: readonly RouteSpec[] = [
  ...platformRoutes,
  ...authRoutes,
  ...tenantRoutes,
  ...serverRoutes,
  ...operationRoutes,
  ...metricsRoutes,
  ...auditRoutes,
  ...tokenRoutes,
  ...memberRoutes,
  ...planRoutes,
];

/**
 * The contexts whose answers API Gateway streams (STREAM transfer mode): their Lambda entry is
 * the module's `streamHandler`, so a route of theirs can answer server-sent events.
 */
export const streamingContexts: readonly string[] = ['operations'];

/** The Lambda entry module of each bounded context, relative to the repo root. */
export const contextEntries: Record<string, string> = {
  platform: 'functions/platform/handler.ts',
  auth: 'functions/auth/handler.ts',
  tenants: 'functions/tenants/handler.ts',
  servers: 'functions/servers/handler.ts',
  operations: 'functions/operations/handler.ts',
  metrics: 'functions/metrics/handler.ts',
  audit: 'functions/audit/handler.ts',
  tokens: 'functions/tokens/handler.ts',
  members: 'functions/members/handler.ts',
  plans: 'functions/plans/handler.ts',
};
