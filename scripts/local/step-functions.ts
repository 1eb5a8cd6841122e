import './polyfills';
import { isDeepStrictEqual } from 'node:util';
import { StateMachine } from 'aws-local-stepfunctions';
import { AwsServiceError, epochSeconds, type JsonOperations } from './aws-json-protocol';
import { type LocalTask, retryingStates, taskStates, waitStates } from './task-resources';

type Definition = { StartAt: string; States: Record<string, Record<string, unknown>> };

interface Execution {
  executionArn: string;
  stateMachineArn: string;
  name: string;
  input: unknown;
  status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  startDate: Date;
  stopDate?: Date;
  output?: unknown;
  error?: string;
  cause?: string;
  abort: () => void;
  done: Promise<void>;
  /** states entered, retries included: what Step Functions bills as state transitions */
  transitions: number;
}

export interface LocalStepFunctionsOptions {
  /** state machine ARN → definition with substitutions applied */
  machines: Record<string, Definition>;
  resolveTask: (resource: string) => LocalTask;
  /** every Wait state lasts this long locally (the definitions' seconds are for AWS) */
  waitMs: number;
  /** every Retry interval lasts this long locally */
  retryIntervalMs: number;
  log: (message: string) => void;
}

/**
 * The Step Functions stand-in: the real ASL run by aws-local-stepfunctions behind the
 * StartExecution / DescribeExecution / StopExecution API, with each Task's Resource mapped
 * through one generic resolver.
 */
export function makeLocalStepFunctions(options: LocalStepFunctionsOptions) {
  const executions = new Map<string, Execution>();
  const prepared = Object.fromEntries(
    Object.entries(options.machines).map(([arn, definition]) => {
      const machine = new StateMachine(definition as never, { validationOptions: { checkArn: false } });
      const taskResourceLocalHandlers = Object.fromEntries(
        taskStates(definition).map(([state, resource]) => [state, options.resolveTask(resource)]),
      );
      const waitTimeOverrides = Object.fromEntries(
        waitStates(definition).map((state) => [state, options.waitMs]),
      );
      const retryIntervalOverrides = Object.fromEntries(
        retryingStates(definition).map(([name, retriers]) => [
          name,
          Array.from({ length: retriers }, () => options.retryIntervalMs),
        ]),
      );
      return [
        arn,
        { machine, overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides } },
      ];
    }),
  );

  function start(stateMachineArn: string, name: string, input: unknown): Execution {
    const entry = prepared[stateMachineArn];
    if (!entry)
      throw new AwsServiceError(
        'StateMachineDoesNotExist',
        `State machine ${stateMachineArn} does not exist`,
      );
    const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
    const existing = executions.get(executionArn);
    if (existing) {
      if (existing.status === 'RUNNING' && isDeepStrictEqual(existing.input, input)) return existing;
      throw new AwsServiceError('ExecutionAlreadyExists', `Execution ${name} already exists`);
    }
    const startDate = new Date();
    const run = entry.machine.run(input as never, {
      overrides: entry.overrides as never,
      context: { Execution: { Id: executionArn, Name: name, StartTime: startDate.toISOString() } } as never,
    });
    const execution: Execution = {
      executionArn,
      stateMachineArn,
      name,
      input,
      status: 'RUNNING',
      startDate,
      abort: run.abort,
      done: Promise.resolve(),
      transitions: 0,
    };
    void (async () => {
      try {
        for await (const event of run.eventLogs) {
          if (event.type === 'StateEntered' || event.type === 'StateRetried') execution.transitions += 1;
        }
      } catch {
        // the execution's own outcome is recorded from its result
      }
    })();
    execution.done = run.result
      .then(
        (output: unknown) => {
          execution.status = 'SUCCEEDED';
          execution.output = output;
        },
        (thrown: Error & { cause?: unknown }) => {
          if (execution.status === 'ABORTED') return;
          // aws-local-stepfunctions wraps the state machine's own error (a Fail state's Error and Cause).
          const error =
            thrown.name === 'ExecutionError' && thrown.cause instanceof Error ? thrown.cause : thrown;
          execution.status = 'FAILED';
          execution.error = error.name;
          execution.cause = error.message;
          options.log(`execution ${name} failed: ${execution.error}: ${execution.cause}`);
        },
      )
      .finally(() => {
        execution.stopDate = new Date();
      });
    executions.set(executionArn, execution);
    return execution;
  }

  const describe = (execution: Execution) => ({
    executionArn: execution.executionArn,
    stateMachineArn: execution.stateMachineArn,
    name: execution.name,
    status: execution.status,
    startDate: epochSeconds(execution.startDate),
    ...(execution.stopDate ? { stopDate: epochSeconds(execution.stopDate) } : {}),
    input: JSON.stringify(execution.input),
    ...(execution.output !== undefined ? { output: JSON.stringify(execution.output) } : {}),
    ...(execution.error ? { error: execution.error, cause: execution.cause } : {}),
  });

  const find = (arn: unknown) => {
    const execution = typeof arn === 'string' ? executions.get(arn) : undefined;
    if (!execution)
      throw new AwsServiceError('ExecutionDoesNotExist', `Execution ${String(arn)} does not exist`);
    return execution;
  };

  const operations: JsonOperations = {
    StartExecution(input) {
      const name = typeof input.name === 'string' ? input.name : crypto.randomUUID();
      const execution = start(String(input.stateMachineArn), name, JSON.parse(String(input.input ?? '{}')));
      return { executionArn: execution.executionArn, startDate: epochSeconds(execution.startDate) };
    },
    DescribeExecution: (input) => describe(find(input.executionArn)),
    StopExecution(input) {
      const execution = find(input.executionArn);
      if (execution.status === 'RUNNING') {
        execution.status = 'ABORTED';
        execution.abort();
      }
      return { stopDate: epochSeconds() };
    },
  };

  return {
    operations,
    executions: () => [...executions.values()].map((e) => ({ ...describe(e), transitions: e.transitions })),
    /** Resolves when every execution has ended (used on shutdown and by tests). */
    async settle(): Promise<void> {
      await Promise.all([...executions.values()].map((e) => e.done));
    },
    stopAll() {
      for (const execution of executions.values()) {
        if (execution.status === 'RUNNING') {
          execution.status = 'ABORTED';
          execution.abort();
        }
      }
    },
  };
}

export type LocalStepFunctions = ReturnType<typeof makeLocalStepFunctions>;
