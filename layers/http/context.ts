import type { WorkflowName } from '../../step-functions/workflows';
import type { RouteSpec } from './route';

/**
 * What a context may reach beyond the table and the platform secrets. The CDK app turns each
 * into the IAM statements it needs (infra/stacks/api-stack.ts), so a context names what it
 * does rather than writing policy.
 */
export type Grant =
  /** invitations and password resets go out through SES */
  | 'send-email'
  /** tenants' provider tokens, one SecureString parameter per tenant and provider */
  | 'provider-credentials'
  /** the roles tenants make in their own AWS accounts for EC2 */
  | 'tenant-aws-roles'
  /** cancel a running command on its host (ssm:ListCommands, ssm:CancelCommand) */
  | 'cancel-host-commands'
  /** resellers' API Gateway usage keys */
  | 'usage-keys'
  /** sites' environment variables, one SecureString parameter per site */
  | 'site-environments'
  /** read what commands on hosts print as they run (CloudWatch Logs) */
  | 'host-command-logs'
  /** database users' passwords, one SecureString parameter per user and slot */
  | 'database-passwords'
  /** the platform's backups bucket: begin and abort uploads, presign parts and downloads, delete */
  | 'backups-bucket';

/**
 * What the workflow tasks function needs to run a context's workflow tasks; the workflows
 * stack turns each into IAM statements on that one function, as `Grant` does for the API.
 */
export type TaskGrant =
  /** hybrid activations for new hosts: create, tag, find, delete, deregister; pass the hosts' role */
  | 'host-activations'
  /** read tenants' provider tokens, to create and delete their VMs */
  | 'provider-credentials'
  /** the roles tenants make in their own AWS accounts for EC2 */
  | 'tenant-aws-roles'
  /** read sites' environments, to render a site's change */
  | 'site-environments'
  /** keep an issued certificate's key per site, and the platform's ACME account keys */
  | 'site-certificates'
  /** start the run-command workflow (a change that catches a host up) */
  | 'start-run-command'
  /** start the backup-site and restore-site workflows (scheduled backups and test restores) */
  | 'start-backup-workflows'
  /** keep a rotated database password, delete a dropped user's */
  | 'database-passwords'
  /** complete backups' uploads, read them back, abort and delete what failed */
  | 'backups-bucket'
  /** put domain events on the platform's bus (uptime incidents) */
  | 'put-events';

/** One bounded context: everything the CDK app, the local runtime and IAM need to know of it. */
export interface ContextDefinition<Routes extends readonly RouteSpec[] = readonly RouteSpec[]> {
  name: string;
  /** its Lambda entry module, relative to the repo root */
  entry: string;
  routes: Routes;
  /**
   * Whose data its handlers reach with their own credentials. `tenant`: only the tenant in the
   * path, under the tenant data role with that tenant's session tag (invariant 3). `platform`:
   * the function's own role over the whole table, which a context must ask for with its reason.
   */
  data: { scope: 'tenant' } | { scope: 'platform'; reason: string };
  /** answers through Lambda response streaming (API Gateway's STREAM transfer mode) */
  streaming: boolean;
  grants: readonly Grant[];
  /** the workflows it starts (and may stop, to cancel an operation) */
  workflows: readonly WorkflowName[];
  /** what its workflow tasks need of AWS, granted to the workflow tasks function */
  taskGrants: readonly TaskGrant[];
  /** the id prefixes of the entities it owns (`srv_…`), each owned by one context */
  idPrefixes: readonly string[];
}

/**
 * Declares a context. Data is tenant-scoped unless `platformData` gives the reason it may not
 * be; its routes must all name it, so the route table and the functions agree.
 */
export function defineContext<const Routes extends readonly RouteSpec[]>(input: {
  name: string;
  routes: Routes;
  entry?: string;
  platformData?: string;
  streaming?: boolean;
  grants?: readonly Grant[];
  workflows?: readonly WorkflowName[];
  taskGrants?: readonly TaskGrant[];
  idPrefixes?: readonly string[];
}): ContextDefinition<Routes> {
  for (const route of input.routes) {
    if (route.context !== input.name) {
      throw new Error(`Route ${route.operationId} names context ${route.context}, not ${input.name}`);
    }
  }
  if (input.platformData !== undefined && input.platformData.trim().length < 10) {
    throw new Error(`Context ${input.name}: platform-wide data needs its reason`);
  }
  return {
    name: input.name,
    entry: input.entry ?? `functions/${input.name}/handler.ts`,
    routes: input.routes,
    data:
      input.platformData === undefined
        ? { scope: 'tenant' }
        : { scope: 'platform', reason: input.platformData.trim() },
    streaming: input.streaming ?? false,
    grants: input.grants ?? [],
    workflows: input.workflows ?? [],
    taskGrants: input.taskGrants ?? [],
    idPrefixes: input.idPrefixes ?? [],
  };
}
