import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { hostDocumentName, resourceNames, stateMachineName } from '../../layers/config/resources';
import { tableDefinition } from '../../layers/store/table-definition';
import { acknowledge, functionFindings } from '../nag';
import { functionBundling } from './bundling';

/** The repository root, where entries, the lock file and node_modules are. */
export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface HouseFunctionProps {
  /** the entry module, relative to the repo root */
  entry: string;
  /** the entry module's export that Lambda calls (default `handler`) */
  handler?: string;
  description: string;
  stage: string;
  memorySize?: number;
  timeout?: Duration;
  environment?: Record<string, string>;
}

/**
 * Every Lambda of the control plane: Node.js 22 on arm64, an ESM bundle minified by esbuild
 * with source maps, X-Ray tracing, a JSON log group with a retention, and Powertools
 * settings. The grant helpers give a permission and set the variable that goes with it.
 */
export class HouseFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: HouseFunctionProps) {
    super(scope, id);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, props.entry),
      handler: props.handler ?? 'handler',
      description: props.description,
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 1024,
      timeout: props.timeout ?? Duration.seconds(29),
      tracing: lambda.Tracing.ACTIVE,
      logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      environment: {
        STAGE: props.stage,
        POWERTOOLS_SERVICE_NAME: `vip-${id.toLowerCase()}`,
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        sourceMap: true,
        sourcesContent: false,
        ...functionBundling(),
        esbuildArgs: { '--external:*.node': true },
      },
    });
    acknowledge(this, functionFindings);
  }

  /** Read (and write) on the table, its indexes by name (no wildcard) and its key, with TABLE_NAME set. */
  grantTable(table: dynamodb.Table, access: 'read' | 'readWrite' = 'readWrite'): this {
    const read = [
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:ConditionCheckItem',
    ];
    const write = [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      // the store's batched conditional writes (BatchExecuteStatement) are PartiQL INSERTs and UPDATEs
      'dynamodb:PartiQLInsert',
      'dynamodb:PartiQLUpdate',
    ];
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: access === 'read' ? read : [...read, ...write],
        resources: [
          table.tableArn,
          ...tableDefinition.indexes.map((i) => `${table.tableArn}/index/${i.indexName}`),
        ],
      }),
    );
    if (access === 'read') table.encryptionKey?.grantDecrypt(this.fn);
    else table.encryptionKey?.grantEncryptDecrypt(this.fn);
    this.fn.addEnvironment('TABLE_NAME', table.tableName);
    return this;
  }

  /** Read of the platform secrets parameter, decrypted with its key, with SECRETS_PARAMETER_NAME set. */
  grantSecrets(secrets: { name: string; arn: string; key: kms.IKey }): this {
    this.fn.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['ssm:GetParameter'], resources: [secrets.arn] }),
    );
    secrets.key.grantDecrypt(this.fn);
    this.fn.addEnvironment('SECRETS_PARAMETER_NAME', secrets.name);
    return this;
  }

  setEnvironment(values: Record<string, string>): this {
    for (const [key, value] of Object.entries(values)) this.fn.addEnvironment(key, value);
    return this;
  }
}

/** The configuration every function validates at cold start (layers/config), for a stage. */
export function platformEnvironment(stack: Stack, stage: string): Record<string, string> {
  const names = resourceNames(stage);
  return {
    PLATFORM_ACCOUNT_ID: stack.account,
    METRICS_STREAM_NAME: names.metricsStream,
    DOCUMENT_NAME_PREFIX: hostDocumentName(stage, ''),
    STATE_MACHINE_ARN_PREFIX: stack.formatArn({
      service: 'states',
      resource: 'stateMachine',
      resourceName: stateMachineName(stage, ''),
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    }),
    BACKUPS_BUCKET: names.backupsBucket(stack.account, stack.region),
    JWT_ISSUER: `https://api.vip-hosting-panel/${stage}`,
    JWT_AUDIENCE: 'vip-hosting-panel',
    EVENT_BUS_NAME: names.eventBus,
  };
}

/** The SecureString parameters that hold tenants' provider tokens, for a stage. */
export const providerCredentialsArn = (stack: Stack, stage: string) =>
  stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `vip/${stage}/tenants/*` });

/** Why a function may touch every tenant's provider parameters. */
export const providerCredentialsFinding = (stage: string) => ({
  id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/vip/${stage}/tenants/*]`,
  reason:
    "Provider tokens are one parameter per tenant and provider under this path; the handler reaches only the path's tenant (checked before) and the workflow only the server's.",
});

/** Every site's environment parameter of a stage: `/vip/<stage>/tenants/<tenant>/sites/<site>/environment`. */
export const siteEnvironmentsArn = (stack: Stack, stage: string) =>
  stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `vip/${stage}/tenants/*/sites/*` });

/** Why a function may touch every site's environment parameter. */
export const siteEnvironmentsFinding = (stage: string) => ({
  id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/vip/${stage}/tenants/*/sites/*]`,
  reason:
    "Sites' environments are one parameter per site under this path; the handler reaches only the path's tenant's sites (checked before).",
});

/**
 * Lets a function use the backups bucket's objects (multipart uploads, presigned parts and
 * downloads, reads, deletes) and the key they are encrypted with; `read` leaves writes out.
 */
export function grantBackupsBucket(fn: HouseFunction, stage: string, key: kms.IKey) {
  const stack = Stack.of(fn);
  const bucket = `arn:${stack.partition}:s3:::${resourceNames(stage).backupsBucket(stack.account, stack.region)}`;
  fn.fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: [
        's3:PutObject',
        's3:GetObject',
        's3:DeleteObject',
        's3:AbortMultipartUpload',
        's3:ListMultipartUploadParts',
      ],
      resources: [`${bucket}/tenants/*`],
    }),
  );
  // the bucket's objects are encrypted with the data key (SSE-KMS, with a bucket key), and so are
  // tenants' own data keys for backups to their storage (client-side AES-256-GCM)
  fn.fn.addToRolePolicy(
    new iam.PolicyStatement({ actions: ['kms:GenerateDataKey', 'kms:Decrypt'], resources: [key.keyArn] }),
  );
  fn.setEnvironment({ BACKUP_KEY_ID: key.keyArn });
  acknowledge(fn, [
    {
      id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::vip-${stage}-backups-<AWS::AccountId>-<AWS::Region>/tenants/*]`,
      reason:
        "Backups are objects per tenant, site and backup under this prefix; functions reach only the path's tenant's (checked before) and the tasks only the backup whose command ended.",
    },
  ]);
}

/** Every database user's password parameters of a stage: `/vip/<stage>/tenants/<tenant>/database-users/<user>/<slot>`. */
export const databasePasswordsArn = (stack: Stack, stage: string) =>
  stack.formatArn({
    service: 'ssm',
    resource: 'parameter',
    resourceName: `vip/${stage}/tenants/*/database-users/*`,
  });

/** Why a function may touch every database user's password parameters. */
export const databasePasswordsFinding = (stage: string) => ({
  id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/vip/${stage}/tenants/*/database-users/*]`,
  reason:
    "Database users' passwords are parameters per user under this path; the handler reaches only the path's tenant's users (checked before) and the tasks only the user whose command ended.",
});

/**
 * Lets a function assume the roles tenants make in their own AWS accounts for EC2. Each such
 * role trusts this account only with the tenant's id as external id, and its name starts with
 * `vip-hosting-`, so nothing else in any account can be reached through this grant.
 */
export function grantTenantAwsRoles(fn: HouseFunction) {
  fn.fn.addToRolePolicy(
    new iam.PolicyStatement({
      actions: ['sts:AssumeRole'],
      resources: [`arn:${Stack.of(fn).partition}:iam::*:role/vip-hosting-*`],
    }),
  );
  acknowledge(fn, [
    {
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::*:role/vip-hosting-*]',
      reason:
        "Tenants' roles for EC2 live in their own accounts; each trusts this account only with the tenant's id as external id.",
    },
  ]);
}
