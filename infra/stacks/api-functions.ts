import { ArnFormat, Duration, NestedStack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { contexts } from '../../functions/api';
import {
  leadingKeysCondition,
  TENANT_SESSION_TAG,
  TENANT_TAG_PATTERN,
  tenantDataActions,
} from '../../layers/auth/tenant-policy';
import { resourceNames, stateMachineName } from '../../layers/config/resources';
import type { Grant } from '../../layers/http/context';
import { tableDefinition } from '../../layers/store/table-definition';
import type { WorkflowName } from '../../step-functions/workflows';
import {
  databasePasswordsArn,
  databasePasswordsFinding,
  grantBackupsBucket,
  grantTenantAwsRoles,
  HouseFunction,
  providerCredentialsArn,
  providerCredentialsFinding,
  siteEnvironmentsArn,
  siteEnvironmentsFinding,
} from '../constructs/house-function';
import { acknowledge, functionFindings } from '../nag';
import type { ApiStackProps } from './api-props';

/** How long a streamed answer may last: an operation's event stream (300 s) and a margin; API Gateway allows 15 minutes. */
export const STREAM_TIMEOUT = Duration.minutes(6);

/**
 * The API's functions, one per bounded context, with what each context's definition grants, and
 * the tenant data role they assume: a nested stack of the API stack, so the API's methods and
 * resources keep the parent's 500-resource room to themselves.
 */
export class ApiFunctions extends NestedStack {
  readonly functions: Record<string, HouseFunction>;
  readonly tenantDataRole: iam.Role;
  /** the data key (the backups bucket's objects are encrypted with it) */
  private readonly dataKey: kms.IKey;

  constructor(scope: Construct, id: string, props: ApiStackProps & { environment: Record<string, string> }) {
    super(scope, id);
    this.dataKey = props.secrets.key;
    const { environment } = props;
    this.functions = {};
    for (const context of contexts) {
      const fn = new HouseFunction(this, `Context${context.name[0]?.toUpperCase()}${context.name.slice(1)}`, {
        entry: context.entry,
        description: `API: ${context.name}`,
        stage: props.stage,
        // an event stream lasts OPERATION_EVENTS_MAX_SECONDS (300) before the client reconnects
        ...(context.streaming ? { handler: 'streamHandler', timeout: STREAM_TIMEOUT } : {}),
      })
        .grantTable(props.table)
        .grantSecrets(props.secrets)
        .setEnvironment(environment);
      this.functions[context.name] = fn;
      this.startsWorkflows(fn, context.workflows, props);
      for (const grant of context.grants) this.grant(fn, grant, props.stage);
    }
    this.tenantDataRole = this.tenantData(props);
    for (const context of contexts.filter((c) => c.grants.includes('usage-keys'))) {
      const fn = this.functions[context.name];
      if (fn) this.usageKeys(fn, props.stage);
    }
  }

  /**
   * Lets a context start its workflows and stop their executions, which are named after their
   * operations: that is how an operation is cancelled.
   */
  private startsWorkflows(fn: HouseFunction, workflows: readonly WorkflowName[], props: ApiStackProps) {
    if (workflows.length === 0) return;
    for (const workflow of workflows) props.machines[workflow].grantStartExecution(fn.fn);
    // by name, as the executions are found at run time
    const machines = workflows.map((workflow) => stateMachineName(props.stage, workflow));
    fn.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['states:StopExecution'],
        resources: machines.map((machine) =>
          this.formatArn({
            service: 'states',
            resource: 'execution',
            resourceName: `${machine}:*`,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ),
      }),
    );
    acknowledge(
      fn,
      machines.map((machine) => ({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${machine}:*]`,
        reason: 'An operation is cancelled by stopping its execution, which is named after its operation id.',
      })),
    );
  }

  /** The IAM statements of one of a context's grants (layers/http/context.ts). */
  private grant(fn: HouseFunction, grant: Grant, stage: string) {
    switch (grant) {
      case 'send-email':
        fn.fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['ses:SendEmail'],
            resources: [this.formatArn({ service: 'ses', resource: 'identity', resourceName: '*' })],
          }),
        );
        acknowledge(fn, [
          {
            id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]',
            reason: 'Mail goes out from whichever SES identity the operator verified for MAIL_FROM.',
          },
        ]);
        return;
      case 'provider-credentials':
        fn.fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['ssm:PutParameter', 'ssm:GetParameter', 'ssm:DeleteParameter'],
            resources: [providerCredentialsArn(this, stage)],
          }),
        );
        acknowledge(fn, [providerCredentialsFinding(stage)]);
        return;
      case 'tenant-aws-roles':
        grantTenantAwsRoles(fn);
        return;
      case 'cancel-host-commands':
        // a command's SSM command is found by its operation id and cancelled on its host
        fn.fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: ['ssm:ListCommands', 'ssm:CancelCommand'], resources: ['*'] }),
        );
        return;
      case 'backups-bucket':
        grantBackupsBucket(fn, stage, this.dataKey);
        return;
      case 'database-passwords':
        fn.fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['ssm:PutParameter', 'ssm:GetParameter', 'ssm:DeleteParameter'],
            resources: [databasePasswordsArn(this, stage)],
          }),
        );
        acknowledge(fn, [databasePasswordsFinding(stage)]);
        return;
      case 'site-environments':
        fn.fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['ssm:PutParameter', 'ssm:GetParameter', 'ssm:DeleteParameter'],
            resources: [siteEnvironmentsArn(this, stage)],
          }),
        );
        acknowledge(fn, [siteEnvironmentsFinding(stage)]);
        return;
      case 'usage-keys':
        // granted with the usage plans, which the grant names
        return;
      case 'host-command-logs': {
        // a running command's output, as Run Command streams it (the workflows stack makes the group)
        const group = this.formatArn({
          service: 'logs',
          resource: 'log-group',
          resourceName: resourceNames(stage).hostCommandLogs,
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        });
        fn.fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['logs:DescribeLogStreams', 'logs:GetLogEvents'],
            resources: [`${group}:*`],
          }),
        );
        acknowledge(fn, [
          {
            id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:logs:<AWS::Region>:<AWS::AccountId>:log-group:${resourceNames(stage).hostCommandLogs}:*]`,
            reason: "Each command's output is a log stream of its own in the one group of host commands.",
          },
        ]);
        return;
      }
    }
  }

  /** A context that puts resellers' usage keys into the resellers' plan. */
  private usageKeys(tokens: HouseFunction, stage: string) {
    // by name: the plan's id would make the function depend on the stage that serves it
    tokens.fn.addEnvironment('RESELLER_USAGE_PLAN_NAME', resourceNames(stage).resellersUsagePlan);
    const apigatewayArn = (path: string) => `arn:${this.partition}:apigateway:${this.region}::${path}`;
    tokens.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['apigateway:POST', 'apigateway:GET'],
        resources: [
          apigatewayArn('/apikeys'),
          apigatewayArn('/usageplans'),
          apigatewayArn('/usageplans/*/keys'),
        ],
      }),
    );
    acknowledge(tokens, [
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:apigateway:<AWS::Region>::/usageplans/*/keys]',
        reason:
          "The resellers' plan is found by name at run time (its id would make the function depend on the API stage); keys go only into it.",
      },
    ]);
  }

  /**
   * Invariant 3 in IAM: one role, assumed by the tenant-data contexts' functions with a
   * `tenant` session tag, whose policy allows only items under that tenant's key prefix
   * (`dynamodb:LeadingKeys` against the tag). A bug that builds another tenant's key is
   * refused by DynamoDB itself.
   */
  private tenantData(props: ApiStackProps): iam.Role {
    // Only the tenant-data functions, and only with a `tenant` tag naming a tenant id and no other tag.
    const tenantScoped = contexts.filter((c) => c.data.scope === 'tenant').map((c) => c.name);
    const trusted = tenantScoped
      .map((context) => this.functions[context]?.fn.role)
      .filter((caller) => caller !== undefined)
      .map((caller) =>
        new iam.ArnPrincipal(caller.roleArn).withSessionTags().withConditions({
          StringLike: { [`aws:RequestTag/${TENANT_SESSION_TAG}`]: TENANT_TAG_PATTERN },
          'ForAllValues:StringEquals': { 'aws:TagKeys': [TENANT_SESSION_TAG] },
        }),
      );
    const role = new iam.Role(this, 'TenantDataRole', {
      roleName: resourceNames(props.stage).tenantDataRole,
      description: 'Tenant-scoped data access for API handlers (session tag: tenant)',
      assumedBy: new iam.CompositePrincipal(...trusted),
      maxSessionDuration: Duration.hours(1),
    });
    role.addToPolicy(
      new iam.PolicyStatement({
        sid: 'TenantItemsOnly',
        actions: [...tenantDataActions],
        resources: [
          props.table.tableArn,
          ...tableDefinition.indexes.map((i) => `${props.table.tableArn}/index/${i.indexName}`),
        ],
        conditions: leadingKeysCondition(),
      }),
    );
    props.table.encryptionKey?.grantEncryptDecrypt(role);
    for (const context of tenantScoped) {
      const fn = this.functions[context];
      if (!fn) continue;
      fn.fn.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['sts:AssumeRole', 'sts:TagSession'], resources: [role.roleArn] }),
      );
      fn.fn.addEnvironment('TENANT_DATA_ROLE_ARN', role.roleArn);
    }
    acknowledge(
      role,
      functionFindings.filter((f) => f.id.startsWith('AwsSolutions-IAM5[Action::kms:')),
    );
    return role;
  }
}
