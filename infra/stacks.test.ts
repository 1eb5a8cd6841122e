import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { contexts, routes } from '../functions/api';
import { AUTHORIZER_CACHE_SECONDS } from '../functions/gateway';
import { tenantDataActions } from '../layers/auth/tenant-policy';
import {
  aggregatorMapping,
  resourceNames,
  standardUsageKey,
  usagePlans,
  webhookQueue,
} from '../layers/config/resources';
import { eventRules } from '../layers/events/rules';
import { tableDefinition } from '../layers/store/table-definition';
import {
  documentPlaceholder,
  hostDocumentNames,
  scheduledTasks,
  workflowNames,
} from '../step-functions/workflows';
import { buildStacks } from './stacks';

/** The contexts whose data is the tenant's own, as their definitions say. */
const tenantDataContexts = contexts.filter((c) => c.data.scope === 'tenant').map((c) => c.name);

let templates: Record<'data' | 'workflows' | 'api' | 'apiFunctions' | 'alerts' | 'metrics', Template>;

beforeAll(() => {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stacks = buildStacks(app, { stage: 'test' });
  templates = {
    data: Template.fromStack(stacks.data),
    workflows: Template.fromStack(stacks.workflows),
    api: Template.fromStack(stacks.api),
    apiFunctions: Template.fromStack(stacks.api.handlers),
    alerts: Template.fromStack(stacks.alerts),
    metrics: Template.fromStack(stacks.metrics),
  };
});

describe('Stack: data', () => {
  it('creates the table from the shared definition with TTL, PITR, streams and a customer managed key', () => {
    templates.data.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
        { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: tableDefinition.ttlAttribute, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      SSESpecification: Match.objectLike({ SSEEnabled: true, SSEType: 'KMS' }),
      GlobalSecondaryIndexes: tableDefinition.indexes.map((index) =>
        Match.objectLike({
          IndexName: index.indexName,
          Projection:
            index.projection.type === 'ALL'
              ? { ProjectionType: 'ALL' }
              : { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.projection.attributes] },
        }),
      ),
    });
  });

  it('creates an encrypted metrics stream and the secrets parameter through a custom resource', () => {
    templates.data.hasResourceProperties('AWS::Kinesis::Stream', {
      StreamEncryption: Match.objectLike({ EncryptionType: 'KMS' }),
    });
    templates.data.hasResourceProperties('AWS::CloudFormation::CustomResource', {
      ParameterName: '/vip/test/platform-secrets',
    });
    templates.data.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
  });
});

describe('Stack: workflows', () => {
  it('loads the state machine from the ASL file with its substitutions, traced and logged', () => {
    const machine = Object.values(templates.workflows.findResources('AWS::StepFunctions::StateMachine'))[0];
    const props = machine?.Properties as Record<string, any>;
    expect(Object.keys(props.DefinitionSubstitutions).sort()).toEqual(
      [
        ...hostDocumentNames.map(documentPlaceholder),
        'HostCommandLogGroupName',
        'WorkflowTasksFunctionArn',
      ].sort(),
    );
    expect(props.TracingConfiguration).toEqual({ Enabled: true });
    expect(props.LoggingConfiguration.Level).toBe('ALL');
  });

  const machineActions = (prefix: string) => {
    const policies = templates.workflows.findResources('AWS::IAM::Policy');
    const machinePolicy = Object.entries(policies).find(([id]) => id.startsWith(prefix));
    expect(machinePolicy, prefix).toBeDefined();
    return new Set(
      ((machinePolicy?.[1].Properties.PolicyDocument.Statement ?? []) as { Action: string | string[] }[])
        .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
        .filter((action) => !action.startsWith('xray:') && !action.startsWith('logs:')),
    );
  };

  it('gives the other workflows only the actions their definitions use', () => {
    expect(machineActions('DecommissionServerRole')).toEqual(new Set(['lambda:InvokeFunction']));
    for (const role of [
      'RunCommandRole',
      'RebootServerRole',
      'IssueCertificateRole',
      'BackupSiteRole',
      'RestoreSiteRole',
    ]) {
      expect(machineActions(role)).toEqual(
        new Set(['lambda:InvokeFunction', 'ssm:SendCommand', 'ssm:GetCommandInvocation']),
      );
    }
    templates.workflows.resourceCountIs('AWS::StepFunctions::StateMachine', workflowNames.length);
    templates.workflows.resourceCountIs('AWS::SSM::Document', hostDocumentNames.length);
  });

  it('runs the scheduled tasks through EventBridge Scheduler, which may only invoke the tasks function', () => {
    const schedules = templates.workflows.findResources('AWS::Scheduler::Schedule');
    const inputs = Object.values(schedules).map((r) => JSON.parse(r.Properties.Target.Input).action);
    expect(inputs).toEqual(Object.values(scheduledTasks).map((t) => t.action));
    for (const metric of [
      'CertificateRenewalFailed',
      'BackupFailed',
      'BackupVerificationFailed',
      'BackupTestRestoreFailed',
      'ScheduledBackupSkipped',
    ]) {
      templates.workflows.hasResourceProperties('AWS::CloudWatch::Alarm', {
        MetricName: metric,
        Namespace: 'VipHostingPanel',
      });
    }
  });

  it('gives the state machine only the actions its definition uses', () => {
    const policies = templates.workflows.findResources('AWS::IAM::Policy');
    const machinePolicy = Object.entries(policies).find(([id]) => id.startsWith('ProvisionServerRole'));
    expect(machinePolicy).toBeDefined();
    const actions = (
      (machinePolicy?.[1].Properties.PolicyDocument.Statement ?? []) as { Action: string | string[] }[]
    ).flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(new Set(actions)).toEqual(
      new Set([
        'lambda:InvokeFunction',
        'ssm:SendCommand',
        'ssm:DescribeInstanceInformation',
        'ssm:GetCommandInvocation',
        'xray:PutTraceSegments',
        'xray:PutTelemetryRecords',
        'xray:GetSamplingRules',
        'xray:GetSamplingTargets',
        'logs:CreateLogDelivery',
        'logs:GetLogDelivery',
        'logs:UpdateLogDelivery',
        'logs:DeleteLogDelivery',
        'logs:ListLogDeliveries',
        'logs:PutResourcePolicy',
        'logs:DescribeResourcePolicies',
        'logs:DescribeLogGroups',
      ]),
    );
  });

  it("grants the workflow tasks function what the contexts' task grants name, and no more", () => {
    const policies = templates.workflows.findResources('AWS::IAM::Policy');
    const [, policy] = Object.entries(policies).find(([id]) => id.startsWith('WorkflowTasks')) ?? [];
    const statements = (policy?.Properties.PolicyDocument.Statement ?? []) as Record<string, any>[];
    const actions = new Set(statements.flatMap((st) => [st.Action].flat() as string[]));
    for (const action of [
      'ssm:CreateActivation',
      'ssm:DeregisterManagedInstance',
      'iam:PassRole',
      'sts:AssumeRole',
      'states:StartExecution',
    ]) {
      expect(actions, action).toContain(action);
    }
    const start = statements.find((st) => [st.Action].flat().includes('states:StartExecution'));
    expect(JSON.stringify(start?.Resource)).toContain('vip-test-run-command');
    expect(JSON.stringify(start?.Resource)).not.toContain('provision-server');
    const reads = statements.filter((st) => [st.Action].flat().includes('ssm:GetParameter'));
    expect(JSON.stringify(reads.map((st) => st.Resource))).toContain('tenants/*/sites/*');
  });

  it('creates the host documents as SSM Command documents', () => {
    for (const name of hostDocumentNames) {
      templates.workflows.hasResourceProperties('AWS::SSM::Document', {
        DocumentType: 'Command',
        Name: `vip-test-${name}`,
        Content: Match.objectLike({ schemaVersion: '2.2' }),
      });
    }
  });
});

describe('Stack: API', () => {
  it('lets each function be invoked by the API once, so routes add methods and not permissions', () => {
    const permissions = templates.api.findResources('AWS::Lambda::Permission');
    // the context functions and the authorizer
    expect(Object.keys(permissions)).toHaveLength(contexts.length + 1);
    // CloudFormation takes at most 500 resources in a stack
    expect(Object.keys(templates.api.toJSON().Resources).length).toBeLessThan(450);
  });

  it('has a method for every route, with the authorizer on exactly the user routes', () => {
    const methods = Object.values(templates.api.findResources('AWS::ApiGateway::Method')).map(
      (m) => m.Properties as Record<string, any>,
    );
    for (const route of routes) {
      const method = methods.find((m) => m.OperationName === route.operationId);
      expect(method, route.operationId).toBeDefined();
      expect(method?.HttpMethod).toBe(route.method);
      expect(method?.AuthorizationType).toBe(route.auth === 'user' ? 'CUSTOM' : 'NONE');
      // a usage key on every signed-in route, named by the authorizer
      expect(method?.ApiKeyRequired ?? false).toBe(route.auth === 'user');
    }
  });

  it("counts signed-in requests in usage plans: a standard one with its key, and the resellers' one", () => {
    templates.api.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
    templates.api.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: resourceNames('test').standardUsagePlan,
      Throttle: {
        RateLimit: usagePlans.standard.throttle.rateLimit,
        BurstLimit: usagePlans.standard.throttle.burstLimit,
      },
    });
    templates.api.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: resourceNames('test').resellersUsagePlan,
      Throttle: {
        RateLimit: usagePlans.resellers.throttle.rateLimit,
        BurstLimit: usagePlans.resellers.throttle.burstLimit,
      },
      Quota: { Limit: usagePlans.resellers.quota.limit, Period: 'DAY' },
    });
    templates.api.hasResourceProperties('AWS::ApiGateway::ApiKey', {
      Value: standardUsageKey('test'),
      Enabled: true,
    });
    templates.api.resourceCountIs('AWS::ApiGateway::UsagePlanKey', 1);
    const tokens = Object.entries(templates.apiFunctions.findResources('AWS::Lambda::Function')).find(
      ([id]) => id.startsWith('ContextTokens'),
    );
    expect(tokens?.[1].Properties.Environment.Variables.RESELLER_USAGE_PLAN_NAME).toBe(
      resourceNames('test').resellersUsagePlan,
    );
  });

  it('caches the REQUEST authorizer per token and source IP for the documented time', () => {
    templates.api.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'REQUEST',
      AuthorizerResultTtlInSeconds: AUTHORIZER_CACHE_SECONDS,
      IdentitySource: 'method.request.header.Authorization,context.identity.sourceIp',
    });
  });

  it('answers its own errors as problem+json', () => {
    templates.api.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'UNAUTHORIZED',
      StatusCode: '401',
      ResponseParameters: Match.objectLike({
        'gatewayresponse.header.Content-Type': "'application/problem+json'",
      }),
    });
    // a token the authorizer denies is a 401 carrying the authorizer's reason
    const denied = Object.values(templates.api.findResources('AWS::ApiGateway::GatewayResponse')).find(
      (r) => r.Properties.ResponseType === 'ACCESS_DENIED',
    );
    expect(denied?.Properties.StatusCode).toBe('401');
    expect(JSON.parse(denied?.Properties.ResponseTemplates['application/json']).detail).toBe(
      '$context.authorizer.detail',
    );
  });

  it('answers a method a resource lacks with a mock 405 naming the methods it has', () => {
    const methods = Object.values(templates.api.findResources('AWS::ApiGateway::Method')).map(
      (m) => m.Properties,
    );
    const paths = new Set(routes.map((r) => r.path));
    const mocks = methods.filter((m) => m.HttpMethod === 'ANY');
    expect(mocks).toHaveLength(paths.size);
    const health = mocks.find((m) => m.OperationName === 'methodNotAllowedv1health');
    expect(health?.Integration).toMatchObject({
      Type: 'MOCK',
      IntegrationResponses: [
        // a CORS preflight reaches the same mock (no resource has an OPTIONS method of its own)
        expect.objectContaining({
          SelectionPattern: '204',
          StatusCode: '204',
          ResponseParameters: expect.objectContaining({
            'method.response.header.Access-Control-Allow-Methods': "'GET,OPTIONS'",
            'method.response.header.Access-Control-Allow-Origin': "'*'",
          }),
        }),
        expect.objectContaining({
          StatusCode: '405',
          ResponseParameters: expect.objectContaining({ 'method.response.header.Allow': "'GET, OPTIONS'" }),
        }),
      ],
    });
    expect(health?.Integration.RequestTemplates['application/json']).toContain(
      '$context.httpMethod == "OPTIONS"',
    );
    expect(methods.filter((m) => m.HttpMethod === 'OPTIONS')).toEqual([]);
  });

  it('puts a WAF web ACL with managed rules and a rate rule in front of the stage', () => {
    templates.api.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      Rules: Match.arrayWith([
        Match.objectLike({ Name: 'AWSManagedRulesCommonRuleSet' }),
        Match.objectLike({
          Name: 'RateLimitPerIp',
          Statement: { RateBasedStatement: Match.objectLike({ AggregateKeyType: 'IP' }) },
        }),
      ]),
    });
    templates.api.resourceCountIs('AWS::WAFv2::WebACLAssociation', 1);
    templates.api.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue() }),
      TracingEnabled: true,
    });
  });

  it("streams the operations context's answers: Lambda response streaming behind STREAM integrations", () => {
    const methods = Object.values(templates.api.findResources('AWS::ApiGateway::Method')).map(
      (m) => m.Properties as Record<string, any>,
    );
    const streamed = methods.filter((m) => m.Integration?.ResponseTransferMode === 'STREAM');
    const operationRoutes = routes.filter((r) => r.context === 'operations');
    expect(streamed).toHaveLength(operationRoutes.length);
    for (const method of streamed) {
      expect(JSON.stringify(method.Integration.Uri)).toContain('/response-streaming-invocations');
      expect(method.Integration.TimeoutInMillis).toBe(360_000);
    }
    const handlers = Object.values(templates.apiFunctions.findResources('AWS::Lambda::Function')).filter(
      (fn) => (fn.Properties as Record<string, any>).Handler === 'index.streamHandler',
    );
    expect(handlers).toHaveLength(1);
    expect((handlers[0]?.Properties as Record<string, any> | undefined)?.Timeout).toBe(360);
  });

  it("lets only the servers API and the workflow tasks assume tenants' vip-hosting- roles, and names the account they trust", () => {
    const assumers = Object.entries({ api: templates.apiFunctions, workflows: templates.workflows }).flatMap(
      ([name, template]) =>
        Object.values(template.findResources('AWS::IAM::Policy'))
          .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes('sts:AssumeRole'))
          .filter((p) => JSON.stringify(p.Properties.PolicyDocument).includes(':role/vip-hosting-*'))
          .map((p) => `${name}:${JSON.stringify(p.Properties.Roles)}`),
    );
    expect(assumers).toHaveLength(2);
    expect(assumers.some((a) => a.startsWith('api:') && a.includes('ContextServers'))).toBe(true);
    expect(assumers.some((a) => a.startsWith('workflows:') && a.includes('WorkflowTasks'))).toBe(true);
    const accounts = Object.values(templates.apiFunctions.findResources('AWS::Lambda::Function'))
      .map((fn) => (fn.Properties as Record<string, any>).Environment?.Variables)
      .filter((variables) => variables?.TABLE_NAME)
      .map((variables) => variables.PLATFORM_ACCOUNT_ID);
    expect(accounts.length).toBeGreaterThan(5);
    expect(new Set(accounts.map((a) => JSON.stringify(a)))).toEqual(
      new Set([JSON.stringify({ Ref: 'AWS::AccountId' })]),
    );
  });

  it('runs every function on Node.js 22, arm64, traced', () => {
    for (const template of Object.values(templates)) {
      for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
        const props = fn.Properties as Record<string, any>;
        if (props.Handler !== 'index.handler' && props.Handler !== 'index.streamHandler') continue;
        expect(props.Runtime).toBe('nodejs22.x');
        expect(props.Architectures).toEqual(['arm64']);
        expect(props.TracingConfig).toEqual({ Mode: 'Active' });
      }
    }
  });
});

describe('Stack: api, tenant isolation in IAM', () => {
  const tenantRole = () => {
    const roles = templates.apiFunctions.findResources('AWS::IAM::Role', {
      Properties: { RoleName: resourceNames('test').tenantDataRole },
    });
    const [id, role] = Object.entries(roles)[0] ?? [];
    if (!id || !role) throw new Error('no tenant data role');
    return { id, role };
  };

  it("has one tenant data role whose policy allows only the tag-named tenant's leading keys", () => {
    const { id } = tenantRole();
    const policies = Object.values(templates.apiFunctions.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.Roles as { Ref: string }[]).some((r) => r.Ref === id),
    );
    const statements = policies.flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Record<string, any>[],
    );
    const dynamo = statements.filter((st) =>
      [st.Action].flat().some((a: string) => a.startsWith('dynamodb:')),
    );
    expect(dynamo).toHaveLength(1);
    expect(dynamo[0]?.Condition).toEqual({
      'ForAllValues:StringLike': {
        'dynamodb:LeadingKeys': [
          // biome-ignore lint/suspicious/noTemplateCurlyInString: an IAM policy variable, not a template
          'T#${aws:PrincipalTag/tenant}',
          // biome-ignore lint/suspicious/noTemplateCurlyInString: the same variable, for the tenant's subkeys
          'T#${aws:PrincipalTag/tenant}#*',
          'DOMAIN#*',
        ],
      },
    });
    expect([...(dynamo[0]?.Action ?? [])].sort()).toEqual([...tenantDataActions].sort());
    // no Scan and no BatchWriteItem: neither names a leading key the condition could hold to one tenant
    expect(dynamo[0]?.Action).not.toContain('dynamodb:Scan');
  });

  it('is assumable only by the tenant-data functions, with exactly a tenant tag', () => {
    const { role } = tenantRole();
    const trust = role.Properties.AssumeRolePolicyDocument.Statement as Record<string, any>[];
    for (const statement of trust) {
      expect(statement).toMatchObject({
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        Condition: {
          StringLike: { 'aws:RequestTag/tenant': 'ten_*' },
          'ForAllValues:StringEquals': { 'aws:TagKeys': ['tenant'] },
        },
      });
    }
    const trusted = trust
      .flatMap((statement) => [statement.Principal.AWS].flat() as { 'Fn::GetAtt': [string] }[])
      .map((p) => p['Fn::GetAtt'][0]);
    expect(trusted).toHaveLength(tenantDataContexts.length);
    for (const context of tenantDataContexts) {
      const name = `Context${context[0]?.toUpperCase()}${context.slice(1)}`;
      expect(trusted.some((logicalId) => logicalId.startsWith(name))).toBe(true);
    }
  });

  it('tells exactly the tenant-data functions which role to assume', () => {
    const functions = Object.entries(templates.apiFunctions.findResources('AWS::Lambda::Function'));
    const withRole = functions
      .filter(([, fn]) => fn.Properties.Environment?.Variables?.TENANT_DATA_ROLE_ARN)
      .map(([id]) => id);
    expect(withRole).toHaveLength(tenantDataContexts.length);
    expect(withRole.some((id) => id.startsWith('ContextAuth'))).toBe(false);
  });
});

describe('Stack: metrics', () => {
  it('maps the stream to the aggregator with batching, bisect, partial failures and an on-failure queue', () => {
    templates.metrics.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: aggregatorMapping.batchSize,
      MaximumBatchingWindowInSeconds: aggregatorMapping.maxBatchingWindowSeconds,
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: aggregatorMapping.retryAttempts,
      ParallelizationFactor: aggregatorMapping.parallelizationFactor,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      StartingPosition: 'TRIM_HORIZON',
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
    });
  });

  it('lets the aggregator write its batches of conditional PartiQL statements to the table', () => {
    templates.metrics.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: Match.arrayWith(['dynamodb:PartiQLInsert', 'dynamodb:PartiQLUpdate']),
          }),
        ]),
      },
    });
  });
});

describe('Stack: alerts', () => {
  it('creates the bus with each rule of the shared definition, its pattern as written, to its target with a DLQ', () => {
    templates.alerts.hasResourceProperties('AWS::Events::EventBus', { Name: resourceNames('test').eventBus });
    for (const rule of Object.values(eventRules)) {
      templates.alerts.hasResourceProperties('AWS::Events::Rule', {
        EventPattern: rule.pattern,
        Targets: [
          Match.objectLike({
            RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 8 }),
            DeadLetterConfig: { Arn: Match.anyValue() },
          }),
        ],
      });
    }
  });

  it('queues webhooks with a redrive to a dead-letter queue and delivers them with partial batch failures', () => {
    templates.alerts.hasResourceProperties('AWS::SQS::Queue', {
      QueueName: resourceNames('test').webhookQueue,
      VisibilityTimeout: webhookQueue.visibilityTimeoutSeconds,
      RedrivePolicy: { deadLetterTargetArn: Match.anyValue(), maxReceiveCount: webhookQueue.maxReceiveCount },
    });
    templates.alerts.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: webhookQueue.batchSize,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });

  it('lets the aggregator put events on the bus, and tells it which', () => {
    templates.metrics.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Action: 'events:PutEvents', Resource: Match.anyValue() }),
        ]),
      },
    });
    templates.metrics.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ EVENT_BUS_NAME: Match.anyValue() }) },
    });
  });
});
