import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as events from 'aws-cdk-lib/aws-events';
import type * as kinesis from 'aws-cdk-lib/aws-kinesis';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { KinesisEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { aggregatorMapping } from '../../layers/config/resources';
import { HouseFunction, platformEnvironment } from '../constructs/house-function';
import { acknowledge } from '../nag';

export interface MetricsStackProps extends StackProps {
  stage: string;
  table: dynamodb.Table;
  stream: kinesis.IStream;
  secrets: { name: string; arn: string; key: kms.IKey };
  /** the bus alert transitions are put on */
  bus: events.EventBus;
}

/**
 * The aggregator: Kinesis samples into 1-minute rollups and each server's latest sample, with
 * the tenants' alert rules evaluated on each server's newest sample.
 */
export class MetricsStack extends Stack {
  readonly aggregator: HouseFunction;
  readonly failures: sqs.Queue;

  constructor(scope: Construct, id: string, props: MetricsStackProps) {
    super(scope, id, props);
    this.failures = new sqs.Queue(this, 'AggregatorFailures', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.aggregator = new HouseFunction(this, 'Aggregator', {
      entry: 'functions/metrics/aggregator.ts',
      description: 'Aggregates host metrics samples into rollups',
      stage: props.stage,
      timeout: Duration.minutes(1),
    })
      .grantTable(props.table)
      .grantSecrets(props.secrets)
      .setEnvironment({ ...platformEnvironment(this, props.stage), EVENT_BUS_NAME: props.bus.eventBusName });
    // alert rules are evaluated as samples arrive; their transitions go on the bus
    props.bus.grantPutEventsTo(this.aggregator.fn);
    this.aggregator.fn.addEventSource(
      new KinesisEventSource(props.stream, {
        startingPosition: lambda.StartingPosition[aggregatorMapping.startingPosition],
        batchSize: aggregatorMapping.batchSize,
        maxBatchingWindow: Duration.seconds(aggregatorMapping.maxBatchingWindowSeconds),
        bisectBatchOnError: aggregatorMapping.bisectBatchOnFunctionError,
        reportBatchItemFailures: aggregatorMapping.reportBatchItemFailures,
        retryAttempts: aggregatorMapping.retryAttempts,
        parallelizationFactor: aggregatorMapping.parallelizationFactor,
        onFailure: new SqsDlq(this.failures),
      }),
    );
    acknowledge(this.failures, [
      {
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the on-failure destination of the event source mapping.',
      },
    ]);
  }
}
