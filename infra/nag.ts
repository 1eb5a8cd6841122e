import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/** A cdk-nag AwsSolutions finding (`AwsSolutions-IAM5[Resource::*]`) and why it is acceptable here. */
export interface Finding {
  id: string;
  reason: string;
}

/** Acknowledges AwsSolutions findings on constructs and everything under them, each with its reason. */
export function acknowledge(scope: IConstruct | IConstruct[], findings: Finding[]): void {
  for (const construct of Array.isArray(scope) ? scope : [scope]) {
    for (const { id, reason } of findings)
      Validations.of(construct).acknowledge({ id: `AwsSolutions::${id}`, reason });
  }
}

/** Findings every function of ours carries, with the reasons they stand. */
export const functionFindings: Finding[] = [
  {
    id: 'AwsSolutions-L1',
    reason:
      'Functions run on Node.js 22, the runtime the bundles are built, typed and tested for; moving to 24 is a deliberate upgrade.',
  },
  {
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: 'The basic execution role only lets the function write its own CloudWatch logs.',
  },
  {
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason:
      'X-Ray PutTraceSegments/PutTelemetryRecords, and the SSM calls that have no resource-level permissions (CreateActivation, DescribeInstanceInformation, GetCommandInvocation, ListCommands, CancelCommand), take only "*".',
  },
  {
    id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
    reason:
      'Reading and writing the CMK-encrypted table and stream needs the data-key family of actions on that one key.',
  },
  {
    id: 'AwsSolutions-IAM5[Action::kms:ReEncrypt*]',
    reason: 'Granted by the CDK for the CMK-encrypted table, on that one key only.',
  },
];
