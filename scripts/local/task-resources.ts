import * as dynamodb from '@aws-sdk/client-dynamodb';
import * as ssm from '@aws-sdk/client-ssm';

/** A Task state's work, run locally: input in, output out, errors named as Step Functions names them. */
export type LocalTask = (input: unknown) => Promise<unknown>;

type SdkModule = Record<string, unknown>;

interface SdkService {
  /** how Step Functions spells the service in error names (`Ssm.InvalidInstanceIdException`) */
  errorPrefix: string;
  module: SdkModule;
  client: { send(command: unknown): Promise<unknown> };
}

export interface TaskResourceDeps {
  /** Lambda function name → handler module's `handler` */
  lambdas: Record<string, (event: unknown) => Promise<unknown>>;
  /** SDK clients pointed at the local engines */
  clients: { dynamodb: dynamodb.DynamoDBClient; ssm: ssm.SSMClient };
}

/** A Lambda error as Step Functions reports it: the error type as name, the JSON error as cause. */
class TaskError extends Error {
  constructor(name: string, cause: Record<string, unknown>) {
    super(JSON.stringify(cause));
    this.name = name;
  }
}

const stripMetadata = (output: unknown) => {
  if (output && typeof output === 'object') {
    const { $metadata: _drop, ...rest } = output as Record<string, unknown>;
    return rest;
  }
  return output;
};

/**
 * One generic table from a Task's Resource to a local implementation: Lambda ARNs run the
 * handler module in-process, `aws-sdk:<service>:<action>` calls that action with the real
 * SDK against the local engine. No state is mapped by name.
 */
export function makeTaskResolver(deps: TaskResourceDeps) {
  const services: Record<string, SdkService> = {
    dynamodb: {
      errorPrefix: 'DynamoDb',
      module: dynamodb as unknown as SdkModule,
      client: deps.clients.dynamodb,
    },
    ssm: { errorPrefix: 'Ssm', module: ssm as unknown as SdkModule, client: deps.clients.ssm },
  };

  return function resolve(resource: string): LocalTask {
    const lambda = /^arn:aws:lambda:[^:]+:\d{12}:function:([A-Za-z0-9_-]+)(:[A-Za-z0-9_$-]+)?$/.exec(
      resource,
    );
    if (lambda?.[1]) {
      const handler = deps.lambdas[lambda[1]];
      if (!handler) throw new Error(`No local handler for Lambda function ${lambda[1]}`);
      return async (input) => {
        try {
          return await handler(input);
        } catch (error) {
          const e = error instanceof Error ? error : new Error(String(error));
          throw new TaskError(e.name, { errorType: e.name, errorMessage: e.message });
        }
      };
    }
    const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(resource);
    if (sdk?.[1] && sdk[2]) {
      const service = services[sdk[1]];
      if (!service) throw new Error(`No local engine for aws-sdk:${sdk[1]}`);
      const commandName = `${sdk[2].charAt(0).toUpperCase()}${sdk[2].slice(1)}Command`;
      const Command = service.module[commandName] as (new (input: unknown) => unknown) | undefined;
      if (!Command) throw new Error(`aws-sdk:${sdk[1]} has no action ${sdk[2]}`);
      return async (input) => {
        try {
          return stripMetadata(await service.client.send(new Command(input)));
        } catch (error) {
          const e = error instanceof Error ? error : new Error(String(error));
          const name = e.name.endsWith('Exception') ? e.name : `${e.name}Exception`;
          throw new TaskError(`${service.errorPrefix}.${name}`, { message: e.message });
        }
      };
    }
    throw new Error(`Unsupported Task resource ${resource}`);
  };
}

/** Every Task state in a definition, nested Parallel branches and Map iterators included. */
export function taskStates(definition: {
  States: Record<string, Record<string, unknown>>;
}): [string, string][] {
  const found: [string, string][] = [];
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type === 'Task' && typeof state.Resource === 'string') found.push([name, state.Resource]);
    for (const branch of (state.Branches as (typeof definition)[] | undefined) ?? [])
      found.push(...taskStates(branch));
    const iterator = (state.ItemProcessor ?? state.Iterator) as typeof definition | undefined;
    if (iterator) found.push(...taskStates(iterator));
  }
  return found;
}

/** Every Wait state in a definition, in its Parallel branches and Map processors too. */
export function waitStates(definition: { States: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(definition.States).flatMap(([name, state]) => [
    ...(state.Type === 'Wait' ? [name] : []),
    ...nested(state).flatMap(waitStates),
  ]);
}

/** Every state with a Retry in a definition, at any depth, with its number of retriers. */
export function retryingStates(definition: {
  States: Record<string, Record<string, unknown>>;
}): [string, number][] {
  return Object.entries(definition.States).flatMap(([name, state]): [string, number][] => [
    ...(Array.isArray(state.Retry) ? [[name, state.Retry.length] as [string, number]] : []),
    ...nested(state).flatMap(retryingStates),
  ]);
}

type Nested = { States: Record<string, Record<string, unknown>> };
const nested = (state: Record<string, unknown>): Nested[] => [
  ...((state.Branches as Nested[] | undefined) ?? []),
  ...(((state.ItemProcessor ?? state.Iterator) as Nested | undefined)
    ? [(state.ItemProcessor ?? state.Iterator) as Nested]
    : []),
];
