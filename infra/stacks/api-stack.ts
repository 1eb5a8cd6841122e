import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
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
import { resourceNames, standardUsageKey, usagePlans } from '../../layers/config/resources';
import { HouseFunction, platformEnvironment } from '../constructs/house-function';
import { acknowledge } from '../nag';
import { ApiFunctions, STREAM_TIMEOUT } from './api-functions';
import type { ApiStackProps } from './api-props';

/** The REST API: one Lambda per bounded context, the REQUEST authorizer, WAF, access logs and problem+json gateway responses. */
export class ApiStack extends Stack {
  readonly api: apigw.RestApi;
  readonly functions: Record<string, HouseFunction>;
  /** the nested stack of the contexts' functions */
  readonly handlers: ApiFunctions;
  readonly tenantDataRole: iam.Role;

  constructor(scope: Construct, id: string, props: ApiStackProps) {
    super(scope, id, props);
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

    // the contexts' functions in a nested stack of their own: CloudFormation takes at most 500
    // resources in a stack, and the API's methods and resources alone come near that
    const handlers = new ApiFunctions(this, 'Functions', { ...props, environment });
    this.handlers = handlers;
    this.functions = handlers.functions;
    this.tenantDataRole = handlers.tenantDataRole;

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
