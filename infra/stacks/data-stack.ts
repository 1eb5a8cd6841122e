import {
  type CfnResource,
  CustomResource,
  Duration,
  RemovalPolicy,
  Stack,
  type StackProps,
} from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kinesis from 'aws-cdk-lib/aws-kinesis';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';
import { metricsStream, resourceNames } from '../../layers/config/resources';
import { tableDefinition } from '../../layers/store/table-definition';
import { HouseFunction } from '../constructs/house-function';
import { acknowledge, functionFindings } from '../nag';

export interface DataStackProps extends StackProps {
  stage: string;
}

/** The table, the metrics stream, the key that encrypts both, and the platform secrets parameter. */
export class DataStack extends Stack {
  readonly key: kms.Key;
  readonly table: dynamodb.Table;
  readonly stream: kinesis.Stream;
  readonly backups: s3.Bucket;
  readonly secrets: { name: string; arn: string; key: kms.IKey };

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    const names = resourceNames(props.stage);
    this.key = new kms.Key(this, 'DataKey', {
      description: `VIP Hosting Panel ${props.stage}: table, stream and secrets`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const string = (name: string) => ({ name, type: dynamodb.AttributeType.STRING });
    this.table = new dynamodb.Table(this, 'Table', {
      tableName: names.table,
      partitionKey: string(tableDefinition.partitionKey),
      sortKey: string(tableDefinition.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: tableDefinition.ttlAttribute,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      stream: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
      encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: this.key,
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of tableDefinition.indexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: string(index.partitionKey),
        sortKey: string(index.sortKey),
        ...(index.projection.type === 'ALL'
          ? { projectionType: dynamodb.ProjectionType.ALL }
          : {
              projectionType: dynamodb.ProjectionType.INCLUDE,
              nonKeyAttributes: [...index.projection.attributes],
            }),
      });
    }

    this.stream = new kinesis.Stream(this, 'MetricsStream', {
      streamName: names.metricsStream,
      shardCount: metricsStream.shardCount,
      retentionPeriod: Duration.hours(metricsStream.retentionHours),
      encryption: kinesis.StreamEncryption.KMS,
      encryptionKey: this.key,
    });

    // Backups: encrypted with the data key, private, TLS only; a multipart upload nobody
    // completed or aborted (a host lost mid-backup) is cleaned up after a day
    const accessLogs = new s3.Bucket(this, 'BackupsAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(90) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.backups = new s3.Bucket(this, 'Backups', {
      bucketName: names.backupsBucket(this.account, this.region),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: false,
      serverAccessLogsBucket: accessLogs as s3.IBucket,
      serverAccessLogsPrefix: 'backups/',
      lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    acknowledge(accessLogs, [
      {
        id: 'AwsSolutions-S1',
        reason: 'This is the access log bucket of the backups bucket; it logs nothing itself.',
      },
    ]);

    const parameterArn = this.formatArn({
      service: 'ssm',
      resource: 'parameter',
      resourceName: names.secretsParameter.slice(1),
    });
    const bootstrap = new HouseFunction(this, 'SecretsBootstrap', {
      entry: 'functions/platform/secrets-bootstrap.ts',
      description: 'Creates the platform secrets parameter on first deploy',
      stage: props.stage,
      memorySize: 256,
      timeout: Duration.minutes(1),
    });
    bootstrap.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:PutParameter', 'ssm:GetParameter'],
        resources: [parameterArn],
      }),
    );
    this.key.grantEncryptDecrypt(bootstrap.fn);
    const provider = new cr.Provider(this, 'SecretsProvider', { onEventHandler: bootstrap.fn });
    new CustomResource(this, 'PlatformSecrets', {
      serviceToken: provider.serviceToken,
      properties: { ParameterName: names.secretsParameter, KeyId: this.key.keyArn },
    });
    this.secrets = { name: names.secretsParameter, arn: parameterArn, key: this.key };

    const onEvent = Stack.of(this).getLogicalId(bootstrap.fn.node.defaultChild as CfnResource);
    acknowledge(provider, [
      ...functionFindings,
      {
        id: `AwsSolutions-IAM5[Resource::<${onEvent}.Arn>:*]`,
        reason: 'The provider framework may invoke any version of its onEvent function.',
      },
    ]);
    acknowledge(this.stream, [
      {
        id: 'AwsSolutions-KDS3',
        reason:
          'Host metrics are tenant data; they are encrypted with the same customer managed key as the table.',
      },
    ]);
  }
}
