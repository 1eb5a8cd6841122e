import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { resourceNames, webhookQueue } from '../../layers/config/resources';
import { type EventTarget, eventRules } from '../../layers/events/rules';
import { HouseFunction, platformEnvironment } from '../constructs/house-function';
import { acknowledge } from '../nag';

export interface AlertsStackProps extends StackProps {
  stage: string;
  table: dynamodb.Table;
  secrets: { name: string; arn: string; key: kms.IKey };
}

/**
 * Where alert transitions go: the stage's EventBridge bus with the rules of layers/events/rules.ts,
 * the notifier they invoke (SES for emails), and the webhooks' SQS queue, its dead-letter queue
 * and the function that delivers them.
 */
export class AlertsStack extends Stack {
  readonly bus: events.EventBus;

  constructor(scope: Construct, id: string, props: AlertsStackProps) {
    super(scope, id, props);
    const names = resourceNames(props.stage);
    this.bus = new events.EventBus(this, 'Bus', { eventBusName: names.eventBus });

    const deadLetters = new sqs.Queue(this, 'WebhookDeadLetters', {
      queueName: names.webhookDeadLetters,
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledge(deadLetters, [
      { id: 'AwsSolutions-SQS3', reason: "This queue is itself the webhook queue's dead-letter queue." },
    ]);
    const queue = new sqs.Queue(this, 'Webhooks', {
      queueName: names.webhookQueue,
      visibilityTimeout: Duration.seconds(webhookQueue.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(4),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: deadLetters, maxReceiveCount: webhookQueue.maxReceiveCount },
    });
    // undelivered events (the notifier failing past its retries) are kept for the operator
    const eventFailures = new sqs.Queue(this, 'EventFailures', {
      retentionPeriod: Duration.days(14),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    acknowledge(eventFailures, [
      {
        id: 'AwsSolutions-SQS3',
        reason: "This queue is itself the dead-letter queue of the bus rules' targets.",
      },
    ]);

    const environment = { ...platformEnvironment(this, props.stage), EVENT_BUS_NAME: this.bus.eventBusName };
    const notifier = new HouseFunction(this, 'AlertNotifier', {
      entry: 'functions/alerts/notify.ts',
      description: 'Emails firing and resolved alerts and queues their webhooks',
      stage: props.stage,
      timeout: Duration.seconds(30),
    })
      .grantTable(props.table)
      .grantSecrets(props.secrets)
      .setEnvironment({ ...environment, WEBHOOK_QUEUE_URL: queue.queueUrl });
    queue.grantSendMessages(notifier.fn);
    notifier.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [this.formatArn({ service: 'ses', resource: 'identity', resourceName: '*' })],
      }),
    );
    acknowledge(notifier, [
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ses:<AWS::Region>:<AWS::AccountId>:identity/*]',
        reason: 'Mail goes out from whichever SES identity the operator verified for MAIL_FROM.',
      },
    ]);

    const delivery = new HouseFunction(this, 'WebhookDelivery', {
      entry: 'functions/alerts/deliver.ts',
      description: "Delivers alert webhooks, signed with their rule's secret",
      stage: props.stage,
      // a batch's requests run side by side, each given up after requestTimeoutSeconds
      timeout: Duration.seconds(webhookQueue.requestTimeoutSeconds * 3),
    })
      .grantTable(props.table, 'read')
      .grantSecrets(props.secrets)
      .setEnvironment({ ...environment, WEBHOOK_QUEUE_URL: queue.queueUrl });
    delivery.fn.addEventSource(
      new SqsEventSource(queue, { batchSize: webhookQueue.batchSize, reportBatchItemFailures: true }),
    );

    const functions: Record<EventTarget, HouseFunction> = { 'alert-notifier': notifier };
    for (const [name, rule] of Object.entries(eventRules)) {
      new events.Rule(this, `Rule-${name}`, {
        eventBus: this.bus,
        description: rule.description,
        eventPattern: rule.pattern as unknown as events.EventPattern,
      }).addTarget(
        new targets.LambdaFunction(functions[rule.target].fn, {
          retryAttempts: 8,
          maxEventAge: Duration.hours(6),
          deadLetterQueue: eventFailures,
        }),
      );
    }
  }
}
