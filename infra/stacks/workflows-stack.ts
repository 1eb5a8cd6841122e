import { ArnFormat, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { contexts } from '../../functions/api';
import { hostDocumentName, resourceNames, stateMachineName } from '../../layers/config/resources';
import type { TaskGrant } from '../../layers/http/context';
import {
  documentSubstitutions,
  type HostDocumentName,
  hostDocumentNames,
  loadHostDocument,
  readWorkflow,
  scheduledTasks,
  type WorkflowDefinition,
  type WorkflowName,
  type WorkflowSubstitutions,
  workflowNames,
  workflows,
} from '../../step-functions/workflows';
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
import { acknowledge } from '../nag';

/** `provision-server` → `ProvisionServer`, the construct id each workflow has always had. */
const pascalCase = (name: string) =>
  name.replace(/(^|-)([a-z])/g, (_, __: string, letter: string) => letter.toUpperCase());

export interface WorkflowsStackProps extends StackProps {
  stage: string;
  table: dynamodb.Table;
  secrets: { name: string; arn: string; key: kms.IKey };
}

/** The host workflows: the bootstrap document, the tasks Lambda and the provision-server state machine. */
export class WorkflowsStack extends Stack {
  /** every workflow of step-functions/workflows.ts, by name */
  readonly machines: Record<WorkflowName, sfn.StateMachine>;
  /** the data key (the backups bucket's objects are encrypted with it) */
  private readonly dataKey: kms.IKey;
  /** where Run Command streams the output of the commands the workflows send */
  readonly hostCommandLogs: logs.LogGroup;

  constructor(scope: Construct, id: string, props: WorkflowsStackProps) {
    super(scope, id, props);
    this.dataKey = props.secrets.key;

    // The role hybrid-activated hosts assume; SSM's managed-instance policy is what AWS documents for it.
    const hostRole = new iam.Role(this, 'ManagedHostRole', {
      roleName: `vip-${props.stage}-managed-host`,
      assumedBy: new iam.ServicePrincipal('ssm.amazonaws.com'),
      managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonSSMManagedInstanceCore')],
    });

    // What the commands the workflows send print, streamed by the hosts' agents as they run (a
    // deploy's log, read by the operations' event stream)
    this.hostCommandLogs = new logs.LogGroup(this, 'HostCommandLogs', {
      logGroupName: resourceNames(props.stage).hostCommandLogs,
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    hostRole.addToPolicy(
      new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [this.hostCommandLogs.logGroupArn, `${this.hostCommandLogs.logGroupArn}:log-stream:*`],
      }),
    );
    acknowledge(hostRole, [
      {
        id: 'AwsSolutions-IAM5[Resource::<HostCommandLogs0342E01F.Arn>:log-stream:*]',
        reason:
          "The agent writes each command's output to a log stream of its own, named by the command, in this group.",
      },
    ]);

    // Every host document of step-functions/workflows.ts, named vip-<stage>-<document>.
    const documents = Object.fromEntries(
      hostDocumentNames.map((name) => [
        name,
        new ssm.CfnDocument(this, `${pascalCase(name)}Document`, {
          name: hostDocumentName(props.stage, name),
          documentType: 'Command',
          documentFormat: 'YAML',
          content: loadHostDocument(name),
          updateMethod: 'NewVersion',
        }),
      ]),
    ) as Record<HostDocumentName, ssm.CfnDocument>;

    const tasks = new HouseFunction(this, 'WorkflowTasks', {
      entry: 'functions/workflow-tasks.ts',
      description: "Workflow steps of every context's workflows: hosts, commands, sites",
      stage: props.stage,
      timeout: Duration.minutes(2),
    })
      .grantTable(props.table)
      .grantSecrets(props.secrets)
      .setEnvironment({ ...platformEnvironment(this, props.stage), HOST_ACTIVATION_ROLE: hostRole.roleName });
    // What each context's workflow tasks need, as its definition names it (functions/api.ts).
    const taskGrants = new Set(contexts.flatMap((context) => context.taskGrants));
    for (const grant of taskGrants) this.grantTasks(tasks, grant, hostRole, props.stage);

    const substitutions: WorkflowSubstitutions = {
      WorkflowTasksFunctionArn: tasks.fn.functionArn,
      HostCommandLogGroupName: this.hostCommandLogs.logGroupName,
      ...documentSubstitutions((name) => documents[name].ref),
    };
    /** A standard workflow from its ASL file, traced, fully logged, allowed to call the tasks Lambda. */
    const machine = (id: string, stateMachineName: string, workflow: WorkflowName, timeout: Duration) => {
      const stateMachine = new sfn.StateMachine(this, id, {
        stateMachineName,
        stateMachineType: sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromString(readWorkflow(workflow)),
        definitionSubstitutions: { ...substitutions },
        tracingEnabled: true,
        logs: {
          destination: new logs.LogGroup(this, `${id}Logs`, {
            retention: logs.RetentionDays.THREE_MONTHS,
            removalPolicy: RemovalPolicy.DESTROY,
          }),
          level: sfn.LogLevel.ALL,
          includeExecutionData: true,
        },
        timeout,
      });
      stateMachine.addToRolePolicy(
        new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [tasks.fn.functionArn] }),
      );
      acknowledge(stateMachine, [
        {
          id: 'AwsSolutions-IAM5[Resource::*]',
          reason:
            'ssm:DescribeInstanceInformation and ssm:GetCommandInvocation support no resource-level permissions; X-Ray takes "*".',
        },
      ]);
      return stateMachine;
    };
    const documentArn = (resourceName: string) =>
      this.formatArn({ service: 'ssm', resource: 'document', resourceName });
    const managedInstances = this.formatArn({
      service: 'ssm',
      resource: 'managed-instance',
      resourceName: '*',
    });
    const commanding: sfn.StateMachine[] = [];
    this.machines = Object.fromEntries(
      workflowNames.map((name) => {
        const definition: WorkflowDefinition = workflows[name];
        const stateMachine = machine(
          pascalCase(name),
          stateMachineName(props.stage, name),
          name,
          Duration.minutes(definition.timeoutMinutes),
        );
        // Least privilege, one statement per integration the definition uses.
        if (definition.documents.length > 0) {
          commanding.push(stateMachine);
          stateMachine.addToRolePolicy(
            new iam.PolicyStatement({
              actions: ['ssm:SendCommand'],
              resources: [
                ...definition.documents.map((d) => documentArn(hostDocumentName(props.stage, d))),
                managedInstances,
              ],
            }),
          );
        }
        const unscoped = [
          ...(definition.describesInstances ? ['ssm:DescribeInstanceInformation'] : []),
          ...(definition.documents.length > 0 ? ['ssm:GetCommandInvocation'] : []),
        ];
        if (unscoped.length > 0) {
          stateMachine.addToRolePolicy(new iam.PolicyStatement({ actions: unscoped, resources: ['*'] }));
        }
        return [name, stateMachine];
      }),
    ) as Record<WorkflowName, sfn.StateMachine>;

    acknowledge(hostRole, [
      {
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonSSMManagedInstanceCore]',
        reason:
          'AmazonSSMManagedInstanceCore is the policy AWS documents for the hybrid-activation service role.',
      },
    ]);
    acknowledge(commanding, [
      {
        id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:managed-instance/*]',
        reason:
          "The workflows run their documents on a server's managed instance, whose id exists only once the server registered.",
      },
    ]);

    // The tasks run on a schedule (step-functions/workflows.ts), each invoked by EventBridge Scheduler.
    const schedulerRole = new iam.Role(this, 'ScheduledTasksRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com'),
      description: 'EventBridge Scheduler invokes the workflow tasks function for its scheduled tasks',
    });
    schedulerRole.addToPolicy(
      new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [tasks.fn.functionArn] }),
    );
    for (const [name, task] of Object.entries(scheduledTasks)) {
      new scheduler.CfnSchedule(this, `${pascalCase(name)}Schedule`, {
        name: `vip-${props.stage}-${name}`,
        description: task.description,
        scheduleExpression: `rate(${task.everyMinutes} ${task.everyMinutes === 1 ? 'minute' : 'minutes'})`,
        // an hourly-or-rarer sweep may drift within half an hour; a frequent one runs on time
        flexibleTimeWindow:
          task.everyMinutes >= 60 ? { mode: 'FLEXIBLE', maximumWindowInMinutes: 30 } : { mode: 'OFF' },
        target: {
          arn: tasks.fn.functionArn,
          roleArn: schedulerRole.roleArn,
          input: JSON.stringify({ action: task.action, input: { correlationId: name } }),
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
        },
      });
    }
    // the operator hears of a renewal that failed (the site's owner sees it on the certificate)
    new cloudwatch.Alarm(this, 'CertificateRenewalFailedAlarm', {
      alarmName: `vip-${props.stage}-certificate-renewal-failed`,
      alarmDescription: "A site's certificate renewal failed; later sweeps try again until it expires.",
      metric: new cloudwatch.Metric({
        namespace: 'VipHostingPanel',
        metricName: 'CertificateRenewalFailed',
        dimensionsMap: { service: 'vip-workflowtasks' },
        statistic: 'Sum',
        period: Duration.hours(6),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    // and of backups that failed, did not read back as sent or restore in scratch, or could not start on schedule
    for (const [metricName, description] of [
      ['BackupFailed', "A site's backup failed; nothing of it was kept."],
      ['BackupVerificationFailed', 'A backup does not read back as its host sent it.'],
      ['BackupTestRestoreFailed', 'A backup did not restore into scratch on its host.'],
      ['ScheduledBackupSkipped', "A site's scheduled backup could not start; its next run tries again."],
    ] as const) {
      new cloudwatch.Alarm(this, `${metricName}Alarm`, {
        alarmName: `vip-${props.stage}-${metricName.replace(/([a-z])([A-Z])/g, '$1-$2').toLowerCase()}`,
        alarmDescription: description,
        metric: new cloudwatch.Metric({
          namespace: 'VipHostingPanel',
          metricName,
          dimensionsMap: { service: 'vip-workflowtasks' },
          statistic: 'Sum',
          period: Duration.hours(1),
        }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
  }

  /** Starting one workflow's executions, by the machine's name (machines are defined after the function). */
  private startsWorkflow(stage: string, workflow: WorkflowName) {
    return new iam.PolicyStatement({
      actions: ['states:StartExecution'],
      resources: [
        this.formatArn({
          service: 'states',
          resource: 'stateMachine',
          resourceName: stateMachineName(stage, workflow),
          arnFormat: ArnFormat.COLON_RESOURCE_NAME,
        }),
      ],
    });
  }

  /** One task grant (layers/http/context.ts) as IAM statements on the workflow tasks function. */
  private grantTasks(tasks: HouseFunction, grant: TaskGrant, hostRole: iam.Role, stage: string) {
    switch (grant) {
      case 'host-activations':
        tasks.fn.addToRolePolicy(
          new iam.PolicyStatement({
            // DescribeInstanceInformation finds every instance an activation registered, to forget them all
            actions: ['ssm:CreateActivation', 'ssm:AddTagsToResource', 'ssm:DescribeInstanceInformation'],
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
            actions: ['iam:PassRole'],
            resources: [hostRole.roleArn],
            conditions: { StringEquals: { 'iam:PassedToService': 'ssm.amazonaws.com' } },
          }),
        );
        return;
      case 'provider-credentials':
        tasks.fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['ssm:GetParameter'],
            resources: [providerCredentialsArn(this, stage)],
          }),
        );
        acknowledge(tasks, [providerCredentialsFinding(stage)]);
        return;
      case 'tenant-aws-roles':
        grantTenantAwsRoles(tasks);
        return;
      case 'backups-bucket':
        grantBackupsBucket(tasks, stage, this.dataKey);
        return;
      case 'database-passwords':
        tasks.fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['ssm:PutParameter', 'ssm:GetParameter', 'ssm:DeleteParameter'],
            resources: [databasePasswordsArn(this, stage)],
          }),
        );
        acknowledge(tasks, [databasePasswordsFinding(stage)]);
        return;
      case 'site-environments':
        tasks.fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['ssm:GetParameter'],
            resources: [siteEnvironmentsArn(this, stage)],
          }),
        );
        acknowledge(tasks, [siteEnvironmentsFinding(stage)]);
        return;
      case 'site-certificates':
        // a renewal is an issuance: the sweep starts the issue-certificate workflow
        tasks.fn.addToRolePolicy(this.startsWorkflow(stage, 'issue-certificate'));
        // DNS-01: the platform's Route 53 zones, their _acme-challenge TXT records
        tasks.fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: ['route53:ListHostedZonesByName'], resources: ['*'] }),
        );
        tasks.fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['route53:ChangeResourceRecordSets'],
            resources: ['arn:aws:route53:::hostedzone/*'],
            conditions: {
              'ForAllValues:StringLike': {
                'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['_acme-challenge.*'],
              },
              'ForAllValues:StringEquals': { 'route53:ChangeResourceRecordSetsRecordTypes': ['TXT'] },
            },
          }),
        );
        tasks.fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['route53:GetChange'],
            resources: ['arn:aws:route53:::change/*'],
          }),
        );
        acknowledge(tasks, [
          {
            id: 'AwsSolutions-IAM5[Resource::*]',
            reason: 'route53:ListHostedZonesByName has no resource-level permissions.',
          },
          {
            id: 'AwsSolutions-IAM5[Resource::arn:aws:route53:::hostedzone/*]',
            reason:
              "Any of the platform's zones may hold a site's domain; changes are limited to _acme-challenge TXT records by condition.",
          },
          {
            id: 'AwsSolutions-IAM5[Resource::arn:aws:route53:::change/*]',
            reason: 'A change id exists only once the change is submitted.',
          },
        ]);
        // an issued certificate's key kept per site; the platform's ACME account keys
        tasks.fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['ssm:GetParameter', 'ssm:PutParameter', 'ssm:DeleteParameter'],
            resources: [
              siteEnvironmentsArn(this, stage),
              this.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `vip/${stage}/acme/*` }),
            ],
          }),
        );
        acknowledge(tasks, [
          siteEnvironmentsFinding(stage),
          {
            id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter/vip/${stage}/acme/*]`,
            reason: "The platform's ACME account keys, one parameter per ACME directory, under this path.",
          },
        ]);
        return;
      case 'start-run-command':
        // by name: the machine is defined after this function, and names it
        tasks.fn.addToRolePolicy(this.startsWorkflow(stage, 'run-command'));
        return;
      case 'start-backup-workflows':
        tasks.fn.addToRolePolicy(this.startsWorkflow(stage, 'backup-site'));
        tasks.fn.addToRolePolicy(this.startsWorkflow(stage, 'restore-site'));
        return;
      case 'put-events':
        // by name: the bus is the alerts stack's, made after this one
        tasks.fn.addToRolePolicy(
          new iam.PolicyStatement({
            actions: ['events:PutEvents'],
            resources: [
              this.formatArn({
                service: 'events',
                resource: 'event-bus',
                resourceName: resourceNames(stage).eventBus,
              }),
            ],
          }),
        );
        return;
    }
  }
}
