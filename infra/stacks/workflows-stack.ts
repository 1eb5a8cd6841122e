import { Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { resourceNames } from '../../layers/config/resources';
import { loadHostDocument, readWorkflow } from '../../step-functions/workflows';
import {
  HouseFunction,
  platformEnvironment,
  providerCredentialsArn,
  providerCredentialsFinding,
} from '../constructs/house-function';
import { acknowledge } from '../nag';

export interface WorkflowsStackProps extends StackProps {
  stage: string;
  table: dynamodb.Table;
  secrets: { name: string; arn: string; key: kms.IKey };
}

/** The host workflows: the bootstrap document, the tasks Lambda and the provision-server state machine. */
export class WorkflowsStack extends Stack {
  readonly provisionServer: sfn.StateMachine;
  readonly decommissionServer: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: WorkflowsStackProps) {
    super(scope, id, props);
    const names = resourceNames(props.stage);

    // The role hybrid-activated hosts assume; SSM's managed-instance policy is what AWS documents for it.
    const hostRole = new iam.Role(this, 'ManagedHostRole', {
      roleName: `vip-${props.stage}-managed-host`,
      assumedBy: new iam.ServicePrincipal('ssm.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });

    const bootstrapDocument = new ssm.CfnDocument(this, 'BootstrapDocument', {
      name: names.bootstrapDocument,
      documentType: 'Command',
      documentFormat: 'YAML',
      content: loadHostDocument('bootstrap-server'),
      updateMethod: 'NewVersion',
    });

    const tasks = new HouseFunction(this, 'WorkflowTasks', {
      entry: 'functions/servers/workflow-tasks.ts',
      description: 'Server workflow steps: create host, record progress, activate, compensate',
      stage: props.stage,
      timeout: Duration.minutes(2),
    })
      .grantTable(props.table)
      .grantSecrets(props.secrets)
      .setEnvironment({ ...platformEnvironment(this, props.stage), HOST_ACTIVATION_ROLE: hostRole.roleName });
    tasks.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:CreateActivation', 'ssm:AddTagsToResource'],
        resources: ['*'],
      }),
    );
    tasks.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:DeleteActivation', 'ssm:DeregisterManagedInstance'],
        resources: ['*'],
        conditions: { StringLike: { 'ssm:resourceTag/vip:serverId': 'srv_*' } },
      }),
    );
    tasks.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:GetParameter'],
        resources: [providerCredentialsArn(this, props.stage)],
      }),
    );
    acknowledge(tasks, [providerCredentialsFinding(props.stage)]);
    tasks.fn.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [hostRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
      }),
    );

    const logGroup = new logs.LogGroup(this, 'ProvisionServerLogs', {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.provisionServer = new sfn.StateMachine(this, 'ProvisionServer', {
      stateMachineName: names.provisionServerStateMachine,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(readWorkflow('provision-server')),
      definitionSubstitutions: {
        TableName: props.table.tableName,
        WorkflowTasksFunctionArn: tasks.fn.functionArn,
        BootstrapDocumentName: bootstrapDocument.ref,
      },
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
      timeout: Duration.hours(1),
    });
    // Least privilege, one statement per integration the definition uses.
    this.provisionServer.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [tasks.fn.functionArn] }),
    );
    this.provisionServer.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['dynamodb:GetItem'], resources: [props.table.tableArn] }),
    );
    props.table.encryptionKey?.grantDecrypt(this.provisionServer);
    const documentArn = this.formatArn({
      service: 'ssm',
      resource: 'document',
      resourceName: names.bootstrapDocument,
    });
    this.provisionServer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:SendCommand'],
        resources: [
          documentArn,
          this.formatArn({ service: 'ssm', resource: 'managed-instance', resourceName: '*' }),
        ],
      }),
    );
    this.provisionServer.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ssm:DescribeInstanceInformation', 'ssm:GetCommandInvocation'],
        resources: ['*'],
      }),
    );

    // Decommissioning runs only the tasks Lambda: every step is more than one call and records itself.
    this.decommissionServer = new sfn.StateMachine(this, 'DecommissionServer', {
      stateMachineName: names.decommissionServerStateMachine,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(readWorkflow('decommission-server')),
      definitionSubstitutions: {
        TableName: props.table.tableName,
        WorkflowTasksFunctionArn: tasks.fn.functionArn,
        BootstrapDocumentName: bootstrapDocument.ref,
      },
      tracingEnabled: true,
      logs: {
        destination: new logs.LogGroup(this, 'DecommissionServerLogs', {
          retention: logs.RetentionDays.THREE_MONTHS,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        level: sfn.LogLevel.ALL,
        includeExecutionData: true,
      },
      timeout: Duration.minutes(30),
    });
    this.decommissionServer.addToRolePolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [tasks.fn.functionArn] }),
    );
    acknowledge(this.decommissionServer, [
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'X-Ray PutTraceSegments/PutTelemetryRecords take only "*".',
      },
    ]);

    acknowledge(hostRole, [
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        reason:
          'AmazonSSMManagedInstanceCore is the policy AWS documents for the hybrid-activation service role.',
      },
    ]);
    acknowledge(this.provisionServer, [
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ssm:DescribeInstanceInformation and ssm:GetCommandInvocation support no resource-level permissions; X-Ray takes "*".',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:managed-instance/*]',
        reason:
          'The workflow runs the bootstrap document on the managed instance it just registered, whose id it cannot know at deploy time.',
      },
    ]);
  }
}
