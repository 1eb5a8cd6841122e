import { ArnFormat, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as wafv2 from 'aws-cdk-lib/aws-wafv2';
import type { Construct } from 'constructs';
import { contexts, routes } from '../../functions/api';
import {
  AUTHORIZER_CACHE_SECONDS,
  corsPreflight,
  type GatewayResponseType,
  gatewayProblem,
  gatewayResponses,
  methodNotAllowed,
} from '../../functions/gateway';
import {
  leadingKeysCondition,
  TENANT_SESSION_TAG,
  TENANT_TAG_PATTERN,
  tenantDataActions,
} from '../../layers/auth/tenant-policy';
import { resourceNames, standardUsageKey, stateMachineName, usagePlans } from '../../layers/config/resources';
import type { Grant } from '../../layers/http/context';
import { tableDefinition } from '../../layers/store/table-definition';
import type { WorkflowName } from '../../step-functions/workflows';
import {
  databasePasswordsArn,
  databasePasswordsFinding,
  grantBackupsBucket,
  grantTenantAwsRoles,
  HouseFunction,
  platformEnvironment,
  providerCredentialsArn,
  providerCredentialsFinding,
  siteEnvironmentsArn,
  siteEnvironmentsFinding,
} from '../constructs/house-function';
import { acknowledge, functionFindings } from '../nag';

export interface ApiStackProps extends StackProps {
  stage: string;
  table: dynamodb.Table;
  secrets: { name: string; arn: string; key: kms.IKey };
  /** every workflow's state machine, for the contexts that start them */
  machines: Record<WorkflowName, sfn.StateMachine>;
  /** requests per 5 minutes per IP before the WAF blocks */
  wafRateLimit?: number;
}

/** How long a streamed answer may last: an operation's event stream (300 s) and a margin; API Gateway allows 15 minutes. */
const STREAM_TIMEOUT = Duration.minutes(6);

/** The REST API: one Lambda per bounded context, the REQUEST authorizer, WAF, access logs and problem+json gateway responses. */
export class ApiStack extends Stack {
  readonly api: apigw.RestApi;
  readonly functions: Record<string, HouseFunction>;
  readonly tenantDataRole: iam.Role;
  /** the data key (the backups bucket's objects are encrypted with it) */
  private readonly dataKey: kms.IKey;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
    this.dataKey = props.secrets.key;
    const environment = platformEnvironment(this, props.stage);

    const accessLogs = new logs.LogGroup(this, 'AccessLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.api = new apigw.RestApi(this, 'Api', {
      restApiName: `vip-${props.stage}-api`,
      description: 'VIP Hosting Panel REST API',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      // usage plans count the key the authorizer names, never one a client sends
      apiKeySourceType: apigw.ApiKeySourceType.AUTHORIZER,
      cloudWatchRole: true,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.DESTROY,
      deployOptions: {
        stageName: props.stage,
        tracingEnabled: true,
        metricsEnabled: true,
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields(),
        throttlingRateLimit: 500,
        throttlingBurstLimit: 1000,
      },
      // CORS preflights are answered by each path's mock ANY method (methodsNotAllowed): an OPTIONS
      // method on every resource would cost a resource each, of the stack's 500
    });

    for (const [type, response] of Object.entries(gatewayResponses) as [
      GatewayResponseType,
      (typeof gatewayResponses)[GatewayResponseType],
    ][]) {
      const problem = gatewayProblem(type, '$context.requestId', '$context.path');
      this.api.addGatewayResponse(`Gateway${type}`, {
        type: apigw.ResponseType.of(type),
        statusCode: String(response.status),
        responseHeaders: {
          'Content-Type': "'application/problem+json'",
          'Access-Control-Allow-Origin': "'*'",
          ...Object.fromEntries(
            Object.entries('headers' in response ? response.headers : {}).map(([k, v]) => [k, `'${v}'`]),
          ),
        },
        templates: { 'application/json': JSON.stringify(problem) },
      });
    }

    const authorizerFn = new HouseFunction(this, 'Authorizer', {
      entry: 'functions/auth/authorizer.ts',
      description: 'Verifies bearer JWTs for API Gateway',
      stage: props.stage,
      memorySize: 512,
      timeout: Duration.seconds(10),
    })
      .grantTable(props.table, 'read')
      .grantSecrets(props.secrets)
      .setEnvironment(environment);
    // A REQUEST authorizer, cached per token and source IP, so API tokens' IP allow-lists hold.
    const authorizer = new apigw.RequestAuthorizer(this, 'RequestAuthorizer', {
      handler: authorizerFn.fn,
      identitySources: [
        apigw.IdentitySource.header('Authorization'),
        apigw.IdentitySource.context('identity.sourceIp'),
      ],
      resultsCacheTtl: Duration.seconds(AUTHORIZER_CACHE_SECONDS),
    });

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

    const integrations = new Map(
      Object.entries(this.functions).map(([context, fn]) => [
        context,
        new apigw.LambdaIntegration(fn.fn, {
          // one invoke permission per function for this API's stage, not one per method: the
          // stack holds at most 500 resources, and the routes of a context all reach its function
          scopePermissionToMethod: false,
          ...(contexts.find((c) => c.name === context)?.streaming
            ? { responseTransferMode: apigw.ResponseTransferMode.STREAM, timeout: STREAM_TIMEOUT }
            : {}),
        }),
      ]),
    );
    for (const route of routes) {
      const integration = integrations.get(route.context);
      if (!integration)
        throw new Error(`Route ${route.operationId}: no function for context ${route.context}`);
      this.api.root.resourceForPath(route.path).addMethod(route.method, integration, {
        operationName: route.operationId,
        ...(route.auth === 'user'
          ? { authorizer, authorizationType: apigw.AuthorizationType.CUSTOM, apiKeyRequired: true }
          : { authorizationType: apigw.AuthorizationType.NONE }),
      });
    }
    this.methodsNotAllowed();
    this.usagePlans(props.stage);

    const webAcl = new wafv2.CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: {
        cloudWatchMetricsEnabled: true,
        metricName: `vip-${props.stage}-api`,
        sampledRequestsEnabled: true,
      },
      rules: [
        managedRule('AWSManagedRulesAmazonIpReputationList', 0),
        managedRule('AWSManagedRulesCommonRuleSet', 1),
        managedRule('AWSManagedRulesKnownBadInputsRuleSet', 2),
        {
          name: 'RateLimitPerIp',
          priority: 3,
          action: { block: {} },
          statement: { rateBasedStatement: { limit: props.wafRateLimit ?? 2000, aggregateKeyType: 'IP' } },
          visibilityConfig: {
            cloudWatchMetricsEnabled: true,
            metricName: 'RateLimitPerIp',
            sampledRequestsEnabled: true,
          },
        },
      ],
    });
    new wafv2.CfnWebACLAssociation(this, 'WebAclAssociation', {
      resourceArn: this.api.deploymentStage.stageArn,
      webAclArn: webAcl.attrArn,
    });

    acknowledge(this.api, [
      {
        id: 'AwsSolutions-APIG2',
        reason:
          'Every handler validates path, query and body with zod and answers problem+json with field errors.',
      },
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'Public routes (signup, login, refresh, health, OpenAPI, CORS preflight, the mock 405 answers) need no authorizer; all others use the REQUEST authorizer.',
      },
      {
        id: 'AwsSolutions-COG4',
        reason: 'Callers are authenticated by our own JWTs and API tokens (REQUEST authorizer), not Cognito.',
      },
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: "API Gateway's account-level CloudWatch role uses the policy AWS provides for exactly that.",
      },
    ]);
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

  /**
   * A method a path does not have answers 405 with `Allow` instead of API Gateway's 403
   * "Missing Authentication Token": each route's resource gets a mock `ANY` method, which
   * API Gateway uses only for methods the resource does not define itself.
   */
  private methodsNotAllowed() {
    const byPath = new Map<string, string[]>();
    for (const route of routes) byPath.set(route.path, [...(byPath.get(route.path) ?? []), route.method]);
    for (const [path, methods] of byPath) {
      const answer = methodNotAllowed(methods, '$context.requestId', '$context.path');
      const preflight = corsPreflight(methods, '*');
      const header = (name: string) => `method.response.header.${name}`;
      this.api.root.resourceForPath(path).addMethod(
        'ANY',
        new apigw.MockIntegration({
          requestTemplates: {
            'application/json':
              '#if($context.httpMethod == "OPTIONS")\n{"statusCode": 204}\n#else\n{"statusCode": 405}\n#end',
          },
          passthroughBehavior: apigw.PassthroughBehavior.NEVER,
          integrationResponses: [
            {
              // a CORS preflight
              selectionPattern: '204',
              statusCode: '204',
              responseParameters: Object.fromEntries(
                Object.entries(preflight.headers).map(([name, value]) => [header(name), `'${value}'`]),
              ),
            },
            {
              statusCode: '405',
              responseParameters: {
                'method.response.header.Allow': `'${answer.headers.Allow}'`,
                'method.response.header.Content-Type': "'application/problem+json'",
              },
              responseTemplates: { 'application/json': JSON.stringify(answer.body) },
            },
          ],
        }),
        {
          operationName: `methodNotAllowed${path.replace(/[^A-Za-z0-9]/g, '')}`,
          authorizationType: apigw.AuthorizationType.NONE,
          methodResponses: [
            {
              statusCode: '204',
              responseParameters: Object.fromEntries(
                Object.keys(preflight.headers).map((name) => [header(name), true]),
              ),
            },
            {
              statusCode: '405',
              responseParameters: {
                'method.response.header.Allow': true,
                'method.response.header.Content-Type': true,
              },
            },
          ],
        },
      );
    }
  }

  /**
   * Usage plans (layers/config/resources.ts): the standard plan with its one shared key, and
   * the resellers' plan that the tokens context puts each reseller's own key in.
   */
  private usagePlans(stage: string) {
    const apiStages = [{ stage: this.api.deploymentStage }];
    const standard = this.api.addUsagePlan('StandardPlan', {
      name: resourceNames(stage).standardUsagePlan,
      description: 'Web-app sessions and customers’ API tokens',
      throttle: usagePlans.standard.throttle,
      apiStages,
    });
    standard.addApiKey(
      this.api.addApiKey('StandardUsageKey', {
        apiKeyName: `vip-${stage}-standard`,
        value: standardUsageKey(stage),
        description: 'Named by the authorizer only (key source AUTHORIZER); not a secret',
      }),
    );
    this.api.addUsagePlan('ResellersPlan', {
      name: resourceNames(stage).resellersUsagePlan,
      description: 'One key per reseller, shared by its API tokens',
      throttle: usagePlans.resellers.throttle,
      quota: {
        limit: usagePlans.resellers.quota.limit,
        period: apigw.Period[usagePlans.resellers.quota.period],
      },
      apiStages,
    });
    const withUsageKeys = contexts.filter((c) => c.grants.includes('usage-keys'));
    for (const context of withUsageKeys) {
      const fn = this.functions[context.name];
      if (fn) this.usageKeys(fn, stage);
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

function managedRule(name: string, priority: number): wafv2.CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
    visibilityConfig: { cloudWatchMetricsEnabled: true, metricName: name, sampledRequestsEnabled: true },
  };
}
