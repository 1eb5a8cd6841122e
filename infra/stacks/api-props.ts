import type { StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { WorkflowName } from '../../step-functions/workflows';

/** What the API stack and its nested stack of functions are built from. */
export interface ApiStackProps extends StackProps {
  stage: string;
  table: dynamodb.Table;
  secrets: { name: string; arn: string; key: kms.IKey };
  /** every workflow's state machine, for the contexts that start them */
  machines: Record<WorkflowName, sfn.StateMachine>;
  /** requests per 5 minutes per IP before the WAF blocks */
  wafRateLimit?: number;
}
