import { randomBytes, randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { AwsServiceError, epochSeconds, type JsonOperations } from './aws-json-protocol';
import { jsonFile } from './json-file';
import type { LocalLogs } from './logs';

interface Parameter {
  Name: string;
  Type: string;
  Value: string;
  Version: number;
  LastModifiedDate: number;
}

interface Activation {
  ActivationId: string;
  ActivationCode: string;
  IamRole: string;
  DefaultInstanceName: string;
  RegistrationLimit: number;
  RegistrationsCount: number;
  ExpirationDate: number;
  Tags: { Key: string; Value: string }[];
}

export interface ManagedInstance {
  InstanceId: string;
  ActivationId: string;
  ComputerName: string;
  IPAddress: string;
  RegistrationDate: number;
  LastPingDateTime: number;
  tags: Record<string, string>;
  deregistered?: boolean;
}

interface HostDocument {
  schemaVersion: string;
  parameters?: Record<
    string,
    { type: string; default?: string; allowedValues?: string[]; allowedPattern?: string }
  >;
  mainSteps: { action: string; name: string; inputs: { runCommand: string[]; timeoutSeconds?: string } }[];
}

interface Invocation {
  CommandId: string;
  InstanceId: string;
  DocumentName: string;
  Comment: string;
  Status: 'Pending' | 'InProgress' | 'Success' | 'Failed' | 'TimedOut' | 'Cancelled';
  StatusDetails: string;
  ResponseCode: number;
  StandardOutputContent: string;
  StandardErrorContent: string;
  ExecutionStartDateTime: string;
  ExecutionEndDateTime: string;
  RequestedDateTime: Date;
  /** what the command was sent with, as ListCommands shows it */
  parameters: Record<string, string[]>;
}

/** What a host agent runs: the document's script steps with parameters already filled in. */
export interface CommandToRun {
  commandId: string;
  comment: string;
  steps: { name: string; script: string; timeoutSeconds: number }[];
  /** what a step prints, as it prints it (CloudWatchOutputConfig: streamed to CloudWatch Logs) */
  output?: (step: string, stream: 'stdout' | 'stderr', text: string) => void;
}

export interface CommandResult {
  status: 'Success' | 'Failed' | 'TimedOut';
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** The agents of running local hosts, by managed instance id. */
export interface AgentDirectory {
  run(instanceId: string, command: CommandToRun): Promise<CommandResult> | undefined;
  /** stops a command's processes on the host, and keeps it from running if it has not begun */
  cancel(instanceId: string, commandId: string): void;
  isOnline(instanceId: string): boolean;
}

/** SSM caps the output GetCommandInvocation returns at 24,000 characters. */
const OUTPUT_LIMIT = 24_000;
const PING_FRESH_MS = 30_000;

/**
 * The Systems Manager stand-in: Parameter Store (file-backed), hybrid activations, managed
 * instances, Command documents and Run Command invocations, with the request, response and
 * error shapes of the real API for the operations this product calls.
 */
export function makeLocalSsm(options: {
  dataDir?: string | undefined;
  documents: Record<string, HostDocument>;
  region: string;
  /** where commands sent with CloudWatchOutputConfig stream their output */
  logs?: LocalLogs;
}) {
  const state = jsonFile(options.dataDir ? join(options.dataDir, 'ssm.json') : undefined, {
    parameters: {} as Record<string, Parameter>,
    activations: {} as Record<string, Activation>,
    instances: {} as Record<string, ManagedInstance>,
  });
  const invocations = new Map<string, Invocation>();
  let agents: AgentDirectory | undefined;

  const instance = (id: unknown): ManagedInstance => {
    const found = typeof id === 'string' ? state.data.instances[id] : undefined;
    if (!found || found.deregistered)
      throw new AwsServiceError('InvalidInstanceId', `Instance ${String(id)} is not a managed instance`);
    return found;
  };

  function resolveParameters(
    document: HostDocument,
    given: Record<string, string[]> = {},
  ): Record<string, string> {
    const declared = document.parameters ?? {};
    const resolved: Record<string, string> = {};
    for (const name of Object.keys(given)) {
      if (!declared[name])
        throw new AwsServiceError('InvalidParameters', `Parameter "${name}" is not defined in the document`);
    }
    for (const [name, spec] of Object.entries(declared)) {
      const value = given[name]?.[0] ?? spec.default;
      if (value === undefined)
        throw new AwsServiceError('InvalidParameters', `Parameter "${name}" is required`);
      if (spec.allowedValues && !spec.allowedValues.includes(value)) {
        throw new AwsServiceError(
          'InvalidParameters',
          `Parameter "${name}" must be one of ${spec.allowedValues.join(', ')}`,
        );
      }
      if (spec.allowedPattern && !new RegExp(spec.allowedPattern).test(value)) {
        throw new AwsServiceError(
          'InvalidParameters',
          `Parameter "${name}" does not match ${spec.allowedPattern}`,
        );
      }
      resolved[name] = value;
    }
    return resolved;
  }

  const fill = (text: string, values: Record<string, string>) =>
    text.replace(/\{\{\s*([A-Za-z0-9]+)\s*\}\}/g, (whole, name: string) => values[name] ?? whole);

  const operations: JsonOperations = {
    GetParameter(input) {
      const parameter = state.data.parameters[String(input.Name)];
      if (!parameter)
        throw new AwsServiceError('ParameterNotFound', `Parameter ${String(input.Name)} not found`);
      return {
        Parameter: {
          ...parameter,
          ARN: `arn:aws:ssm:${options.region}:000000000000:parameter${parameter.Name}`,
          DataType: 'text',
        },
      };
    },
    DeleteParameter(input) {
      const name = String(input.Name);
      if (!state.data.parameters[name])
        throw new AwsServiceError('ParameterNotFound', `Parameter ${name} not found`);
      delete state.data.parameters[name];
      state.save();
      return {};
    },
    PutParameter(input) {
      const name = String(input.Name);
      const existing = state.data.parameters[name];
      if (existing && input.Overwrite !== true)
        throw new AwsServiceError('ParameterAlreadyExists', `Parameter ${name} already exists`);
      const version = (existing?.Version ?? 0) + 1;
      state.data.parameters[name] = {
        Name: name,
        Type: String(input.Type ?? 'String'),
        Value: String(input.Value),
        Version: version,
        LastModifiedDate: epochSeconds(),
      };
      state.save();
      return { Version: version, Tier: 'Standard' };
    },
    CreateActivation(input) {
      const activation: Activation = {
        ActivationId: randomUUID(),
        ActivationCode: randomBytes(15).toString('base64url'),
        IamRole: String(input.IamRole),
        DefaultInstanceName: String(input.DefaultInstanceName ?? ''),
        RegistrationLimit: Number(input.RegistrationLimit ?? 1),
        RegistrationsCount: 0,
        ExpirationDate: Number(input.ExpirationDate ?? epochSeconds() + 86400),
        Tags: (input.Tags as Activation['Tags'] | undefined) ?? [],
      };
      state.data.activations[activation.ActivationId] = activation;
      state.save();
      return { ActivationId: activation.ActivationId, ActivationCode: activation.ActivationCode };
    },
    DeleteActivation(input) {
      const id = String(input.ActivationId);
      if (!state.data.activations[id])
        throw new AwsServiceError('InvalidActivation', `Activation ${id} does not exist`);
      delete state.data.activations[id];
      state.save();
      return {};
    },
    DescribeInstanceInformation(input) {
      const filters = (input.Filters as { Key: string; Values: string[] }[] | undefined) ?? [];
      const list = Object.values(state.data.instances)
        .filter((i) => !i.deregistered)
        .filter((i) =>
          filters.every((f) => {
            if (f.Key === 'ActivationIds') return f.Values.includes(i.ActivationId);
            if (f.Key === 'InstanceIds') return f.Values.includes(i.InstanceId);
            if (f.Key.startsWith('tag:')) return f.Values.includes(i.tags[f.Key.slice(4)] ?? '');
            throw new AwsServiceError('InvalidInstanceInformationFilterValue', `Unsupported filter ${f.Key}`);
          }),
        )
        .map((i) => ({
          InstanceId: i.InstanceId,
          ActivationId: i.ActivationId,
          ComputerName: i.ComputerName,
          IPAddress: i.IPAddress,
          PingStatus:
            agents?.isOnline(i.InstanceId) && Date.now() - i.LastPingDateTime * 1000 < PING_FRESH_MS
              ? 'Online'
              : 'ConnectionLost',
          LastPingDateTime: i.LastPingDateTime,
          RegistrationDate: i.RegistrationDate,
          PlatformType: 'Linux',
          PlatformName: 'Debian GNU/Linux',
          ResourceType: 'ManagedInstance',
          AgentVersion: '3.3.0.0',
        }));
      return { InstanceInformationList: list };
    },
    DeregisterManagedInstance(input) {
      instance(input.InstanceId).deregistered = true;
      state.save();
      return {};
    },
    SendCommand(input) {
      const documentName = String(input.DocumentName);
      const document = options.documents[documentName];
      if (!document) throw new AwsServiceError('InvalidDocument', `Document ${documentName} does not exist`);
      const instanceIds = (input.InstanceIds as string[] | undefined) ?? [];
      if (instanceIds.length === 0) throw new AwsServiceError('InvalidInstanceId', 'InstanceIds is empty');
      instanceIds.forEach(instance);
      const values = resolveParameters(document, input.Parameters as Record<string, string[]> | undefined);
      const commandId = randomUUID();
      const comment = String(input.Comment ?? '');
      const steps = document.mainSteps.map((step) => {
        if (step.action !== 'aws:runShellScript')
          throw new AwsServiceError('InvalidDocument', `Unsupported action ${step.action}`);
        return {
          name: step.name,
          script: fill(step.inputs.runCommand.join('\n'), values),
          timeoutSeconds: Number(step.inputs.timeoutSeconds ?? input.TimeoutSeconds ?? 3600),
        };
      });
      const requested = new Date();
      for (const instanceId of instanceIds) {
        const invocation: Invocation = {
          CommandId: commandId,
          InstanceId: instanceId,
          DocumentName: documentName,
          Comment: comment,
          Status: 'Pending',
          StatusDetails: 'Pending',
          ResponseCode: -1,
          StandardOutputContent: '',
          StandardErrorContent: '',
          ExecutionStartDateTime: '',
          ExecutionEndDateTime: '',
          RequestedDateTime: requested,
          parameters: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, [v]])),
        };
        invocations.set(`${commandId}/${instanceId}`, invocation);
        // as the agent does with CloudWatchOutputConfig: each step's output streamed as it comes,
        // to <command>/<instance>/<step>/stdout and /stderr
        const cloudWatch = input.CloudWatchOutputConfig as
          | { CloudWatchOutputEnabled?: boolean; CloudWatchLogGroupName?: string }
          | undefined;
        const group = cloudWatch?.CloudWatchOutputEnabled ? cloudWatch.CloudWatchLogGroupName : undefined;
        const logs = options.logs;
        const output =
          group && logs
            ? (step: string, stream: 'stdout' | 'stderr', text: string) =>
                logs.append(group, `${commandId}/${instanceId}/${step}/${stream}`, text)
            : undefined;
        const run = agents?.run(instanceId, { commandId, comment, steps, ...(output ? { output } : {}) });
        if (!run) continue; // the agent is offline: the invocation stays Pending, as it would in AWS
        invocation.Status = 'InProgress';
        invocation.StatusDetails = 'InProgress';
        invocation.ExecutionStartDateTime = new Date().toISOString();
        run.then(
          (result) => {
            if (group && logs) {
              for (const step of steps)
                for (const stream of ['stdout', 'stderr'])
                  logs.flush(group, `${commandId}/${instanceId}/${step.name}/${stream}`);
            }
            invocation.StandardOutputContent = result.stdout.slice(0, OUTPUT_LIMIT);
            invocation.StandardErrorContent = result.stderr.slice(0, OUTPUT_LIMIT);
            if (invocation.Status === 'Cancelled') return; // what it printed before is kept
            invocation.Status = result.status;
            invocation.StatusDetails = result.status === 'TimedOut' ? 'ExecutionTimedOut' : result.status;
            invocation.ResponseCode = result.exitCode;
            invocation.ExecutionEndDateTime = new Date().toISOString();
          },
          (error: unknown) => {
            if (invocation.Status === 'Cancelled') return;
            invocation.Status = 'Failed';
            invocation.StatusDetails = 'Failed';
            invocation.StandardErrorContent = String(error);
            invocation.ExecutionEndDateTime = new Date().toISOString();
          },
        );
      }
      return {
        Command: {
          CommandId: commandId,
          DocumentName: documentName,
          InstanceIds: instanceIds,
          Comment: comment,
          Parameters: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, [v]])),
          RequestedDateTime: epochSeconds(requested),
          Status: 'Pending',
        },
      };
    },
    GetCommandInvocation(input) {
      const invocation = invocations.get(`${String(input.CommandId)}/${String(input.InstanceId)}`);
      if (!invocation)
        throw new AwsServiceError('InvocationDoesNotExist', 'The command invocation does not exist');
      const { RequestedDateTime: _requested, parameters: _parameters, ...shown } = invocation;
      return shown;
    },
    /** Commands per instance, newest first, filtered by DocumentName, InvokedAfter, InvokedBefore and Status. */
    ListCommands(input) {
      const filters = (input.Filters as { key: string; value: string }[] | undefined) ?? [];
      const matches = [...invocations.values()]
        .filter((i) => input.InstanceId === undefined || i.InstanceId === input.InstanceId)
        .filter((i) => input.CommandId === undefined || i.CommandId === input.CommandId)
        .filter((i) =>
          filters.every((f) => {
            if (f.key === 'DocumentName') return i.DocumentName === f.value;
            if (f.key === 'InvokedAfter') return i.RequestedDateTime >= new Date(f.value);
            if (f.key === 'InvokedBefore') return i.RequestedDateTime <= new Date(f.value);
            if (f.key === 'Status') return i.Status === f.value;
            throw new AwsServiceError('InvalidFilterKey', `Unsupported filter key ${f.key}`);
          }),
        )
        .sort((a, b) => b.RequestedDateTime.getTime() - a.RequestedDateTime.getTime());
      const start = Number(input.NextToken ?? 0);
      const size = Number(input.MaxResults ?? 50);
      const page = matches.slice(start, start + size);
      return {
        Commands: page.map((i) => ({
          CommandId: i.CommandId,
          DocumentName: i.DocumentName,
          Comment: i.Comment,
          InstanceIds: [i.InstanceId],
          RequestedDateTime: epochSeconds(i.RequestedDateTime),
          Parameters: i.parameters,
          Status: i.Status,
          StatusDetails: i.StatusDetails,
        })),
        ...(start + size < matches.length ? { NextToken: String(start + size) } : {}),
      };
    },
    /** Cancels a command on its instances: a pending one never runs, a running one is stopped. */
    CancelCommand(input) {
      const commandId = String(input.CommandId);
      const targets = [...invocations.values()].filter(
        (i) =>
          i.CommandId === commandId &&
          (input.InstanceIds === undefined || (input.InstanceIds as string[]).includes(i.InstanceId)),
      );
      if (targets.length === 0)
        throw new AwsServiceError('InvalidCommandId', `Command ${commandId} not found`);
      for (const invocation of targets) {
        if (invocation.Status !== 'Pending' && invocation.Status !== 'InProgress') continue;
        invocation.Status = 'Cancelled';
        invocation.StatusDetails = 'Cancelled';
        invocation.ExecutionEndDateTime = new Date().toISOString();
        agents?.cancel(invocation.InstanceId, commandId);
      }
      return {};
    },
  };

  return {
    operations,
    attachAgents(directory: AgentDirectory) {
      agents = directory;
    },
    /** What the SSM agent's `-register` does: trade an activation code for a managed instance id. */
    register(
      code: string,
      activationId: string,
      host: { computerName: string; ip: string },
    ): ManagedInstance {
      const activation = state.data.activations[activationId];
      if (!activation || activation.ActivationCode !== code) throw new Error('Invalid activation code or id');
      if (activation.ExpirationDate < epochSeconds()) throw new Error('Activation expired');
      if (activation.RegistrationsCount >= activation.RegistrationLimit)
        throw new Error('Activation registration limit reached');
      activation.RegistrationsCount += 1;
      const registered: ManagedInstance = {
        InstanceId: `mi-${randomBytes(9).toString('hex').slice(0, 17)}`,
        ActivationId: activationId,
        ComputerName: host.computerName || activation.DefaultInstanceName,
        IPAddress: host.ip,
        RegistrationDate: epochSeconds(),
        LastPingDateTime: epochSeconds(),
        tags: Object.fromEntries(activation.Tags.map((t) => [t.Key, t.Value])),
      };
      state.data.instances[registered.InstanceId] = registered;
      state.save();
      return registered;
    },
    ping(instanceId: string) {
      const found = state.data.instances[instanceId];
      if (found && !found.deregistered) found.LastPingDateTime = epochSeconds();
    },
    instance(instanceId: string): ManagedInstance | undefined {
      return state.data.instances[instanceId];
    },
    /** What is registered: activations and live managed instances (the fault-injection counts read this). */
    inventory() {
      return {
        activations: Object.keys(state.data.activations),
        instances: Object.values(state.data.instances)
          .filter((i) => !i.deregistered)
          .map((i) => i.InstanceId),
      };
    },
    persist: () => state.save(),
  };
}

export type LocalSsm = ReturnType<typeof makeLocalSsm>;
