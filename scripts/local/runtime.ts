import './polyfills';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteStreamCommand } from '@aws-sdk/client-kinesis';
import { SSMClient } from '@aws-sdk/client-ssm';
import {
  aggregatorMapping,
  hostDocumentName,
  metricsStream,
  resourceNames,
  standardUsageKey,
  stateMachineArn,
  stateMachineName,
  usagePlans,
  webhookQueue,
} from '../../layers/config/resources';
import {
  documentSubstitutions,
  hostDocumentNames,
  loadHostDocument,
  loadWorkflow,
  scheduledTasks,
  workflowNames,
} from '../../step-functions/workflows';
import { makeLocalKms } from '../fakes/kms';
import { startFakeRoute53 } from '../fakes/route53';
import { startFakeS3 } from '../fakes/s3';
import { makeLocalApiKeys } from './api-gateway-keys';
import { serveJsonProtocol } from './aws-json-protocol';
import { startCloudFakes } from './cloud-fakes';
import { customMachineSetup } from './custom-machines';
import {
  dynamoDbClient,
  type Engine,
  ensureStream,
  ensureTable,
  kinesisClient,
  LOCAL_CREDENTIALS,
  startAcmeEngine,
  startDynamoDbEngine,
  startKinesisEngine,
} from './engines';
import { makeLocalEventBus } from './event-bus';
import { makeFrontDoor } from './front-door';
import { answerWhileStarting, makeGateway } from './gateway';
import { makeGitServer } from './git-server';
import { makeLocalHosts } from './hosts';
import { startKinesisPoller } from './kinesis-poller';
import { makeLocalLogs } from './logs';
import { makeLocalSes } from './ses';
import { makeLocalSqs } from './sqs';
import { makeLocalSsm } from './ssm';
import { makeLocalStepFunctions } from './step-functions';
import { makeLocalSts } from './sts';
import { makeTaskResolver } from './task-resources';
import { enforceTenantPolicy } from './tenant-iam';

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REGION = 'us-east-1';
const ACCOUNT = '000000000000';
const STAGE = 'local';

export interface LocalRuntimeOptions {
  /** gateway port; 0 picks a free one */
  port: number;
  /** DynamoDB and Kinesis endpoints already running (the tests' shared engines); absent starts both */
  engines?: { dynamodb: string; kinesis: string } | undefined;
  /** the port of the git server (0: one the system picks) */
  gitPort?: number;
  /** the port of the front door, where sites answer by their domains (0: one the system picks) */
  frontDoorPort?: number;
  /** how often every scheduled task runs (unset: as often as in AWS) */
  scheduleIntervalMs?: number;
  /** start local stand-ins of the providers' APIs whose address the environment does not name (default true) */
  cloudFakes?: boolean;
  /** names this runtime's table and stream apart from other runtimes on the same engines */
  instance?: string | undefined;
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
  /** local hosts run the database engine their stack names (Debian's MariaDB, PostgreSQL); default true */
  databaseEngines?: boolean;
  /** servers whose machine the local provider's reset button does not restart (a provider fault) */
  resetsIgnoredFor?: string[];
  /** a CA (PEM file) uptime probes trust besides the system's */
  uptimeCaFile?: string;
  /** how long the metrics stream's consumer gathers records for a batch (default: as in AWS) */
  metricsBatchingWindowMs?: number;
  /** the first delay before a failed webhook is tried again, doubled each time (default: as in AWS) */
  webhookRetryBaseSeconds?: number;
  /** the resellers' usage plan throttle, when a test wants to reach it quickly (default: as in AWS) */
  resellerThrottle?: { rateLimit: number; burstLimit: number };
  logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'SILENT';
  log?: (message: string) => void;
}

/** Whether this machine has a program on its PATH. */
const hasProgram = (name: string) =>
  (process.env.PATH ?? '').split(':').some((dir) => dir && existsSync(join(dir, name)));

/** A server listening on loopback (port 0: one the system picks). */
function listening(server: Server, port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

const portOf = (server: Server): number => {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : 0;
};

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
  // Runtimes that share engines each keep their own table and stream.
  const names = {
    ...resourceNames(STAGE),
    ...(options.instance
      ? {
          table: `vip-${STAGE}-${options.instance}`,
          metricsStream: `vip-${STAGE}-${options.instance}-metrics`,
        }
      : {}),
  };
  const httpServers: Server[] = [];
  const cleanups: (() => Promise<void> | void)[] = [];
  /** the engines this runtime started itself, stopped last */
  const engines: Engine[] = [];

  try {
    const engineLog = join(dataDir, 'engines.log');
    const dynamoPath = persist('dynamodb');
    if (dynamoPath) mkdirSync(dynamoPath, { recursive: true });
    // Both servers listen before anything is built, so their addresses can go into the
    // environment and no other process can take a port between choosing and listening.
    const [servicesServer, apiServer, frontDoorServer, gitServer, dynamoEngine, kinesisEngine] =
      await Promise.all([
        listening(createServer(), 0),
        listening(createServer(), options.port),
        listening(createServer(), options.frontDoorPort ?? 0),
        listening(createServer(), options.gitPort ?? 0),
        options.engines ? undefined : startDynamoDbEngine({ path: dynamoPath, logFile: engineLog }),
        options.engines
          ? undefined
          : startKinesisEngine({ persistPath: persist('kinesis'), logFile: engineLog }),
      ]);
    httpServers.push(servicesServer, apiServer, frontDoorServer, gitServer);
    // the API's port answers 503 until the gateway serves it
    const stopStarting = answerWhileStarting(apiServer);
    // bare repositories served by git http-backend, as a forge would serve them
    const git = makeGitServer({ root: join(dataDir, 'git'), log });
    git.serve(gitServer);
    for (const engine of [dynamoEngine, kinesisEngine]) if (engine) engines.push(engine);
    // Let's Encrypt's test server as this runtime's ACME directory, validating HTTP-01
    // challenges through the front door (when this machine has Debian's pebble)
    const acme = hasProgram('pebble')
      ? await startAcmeEngine({
          dir: join(dataDir, 'pebble'),
          httpPort: portOf(frontDoorServer),
          logFile: engineLog,
        })
      : undefined;
    if (acme) engines.push(acme);
    else log('pebble is not installed: certificates cannot be ordered on this runtime');
    // Route 53's API for DNS-01: its TXT records are served by pebble's DNS for real
    const route53 = await startFakeRoute53({
      publish: async (name, values) => {
        if (!acme) return;
        const send = (path: string, body: unknown) =>
          fetch(`${acme.dnsManagement}${path}`, { method: 'POST', body: JSON.stringify(body) });
        await send('/clear-txt', { host: name });
        for (const value of values) await send('/set-txt', { host: name, value });
      },
    });
    cleanups.push(() => route53.stop());
    // S3 for backups: objects on disk under the data directory, checked by SigV4 as S3 does
    const backupsBucket = names.backupsBucket('000000000000', REGION);
    const s3 = await startFakeS3({
      dir: join(dataDir, 's3'),
      accessKeyId: LOCAL_CREDENTIALS.accessKeyId,
      secretAccessKey: LOCAL_CREDENTIALS.secretAccessKey,
      sessions: (accessKeyId) => stsSession(accessKeyId),
    });
    s3.createBucket(backupsBucket);
    cleanups.push(() => s3.stop());

    const endpoints = {
      dynamodb: options.engines?.dynamodb ?? dynamoEngine?.endpoint ?? '',
      kinesis: options.engines?.kinesis ?? kinesisEngine?.endpoint ?? '',
      services: `http://127.0.0.1:${portOf(servicesServer)}`,
    };
    const credentials = LOCAL_CREDENTIALS;
    const machinePrefix = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${stateMachineName(STAGE, '')}`;
    const tenantDataRoleArn = `arn:aws:iam::${ACCOUNT}:role/${names.tenantDataRole}`;
    // The cloud providers' APIs, as local stand-ins whose machines are local hosts booted from
    // the user data each received (hosts and STS come later: the hooks look them up then).
    const machines = new Map<string, string>();
    let bootHost: ((body: unknown) => { status: number; body?: unknown }) | undefined;
    let stsSession: (accessKeyId: string) => { secretAccessKey: string; sessionToken: string } | undefined =
      () => undefined;
    const cloud =
      options.cloudFakes === false
        ? undefined
        : await startCloudFakes({
            env: process.env,
            sessions: (accessKeyId) => stsSession(accessKeyId),
            machines: {
              boot(machine) {
                const booted = bootHost?.({
                  name: machine.name,
                  region: machine.region,
                  size: machine.size,
                  userData: machine.userData,
                  labels: { 'provider-id': machine.id },
                });
                const host = (booted?.body as { host?: { id: string } } | undefined)?.host;
                if (host) machines.set(machine.id, host.id);
              },
              shutDown(machine) {
                const hostId = machines.get(machine.id);
                if (hostId) hosts.handle('DELETE', `/v1/hosts/${hostId}`, undefined);
              },
            },
          });
    if (cloud) {
      cleanups.push(async () => {
        await cloud.stop();
        for (const variable of Object.keys(cloud.env)) delete process.env[variable];
      });
    }
    Object.assign(process.env, {
      ...cloud?.env,
      // a custom server's install command fetches this runtime's stand-in for AWS's setup tool
      SSM_SETUP_CLI_URL: `${endpoints.services}/local/ssm-setup-cli`,
      STAGE,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
      TABLE_NAME: names.table,
      METRICS_STREAM_NAME: names.metricsStream,
      SECRETS_PARAMETER_NAME: names.secretsParameter,
      STATE_MACHINE_ARN_PREFIX: machinePrefix,
      DOCUMENT_NAME_PREFIX: hostDocumentName(STAGE, ''),
      DYNAMODB_ENDPOINT: endpoints.dynamodb,
      KINESIS_ENDPOINT: endpoints.kinesis,
      SSM_ENDPOINT: endpoints.services,
      LOGS_ENDPOINT: endpoints.services,
      ROUTE53_ENDPOINT: route53.endpoint,
      S3_ENDPOINT: s3.endpoint,
      BACKUPS_BUCKET: backupsBucket,
      KMS_ENDPOINT: endpoints.services,
      BACKUP_KEY_ID: `arn:aws:kms:${REGION}:${ACCOUNT}:key/local-data-key`,
      // customers' backup storage may be this machine's (a second S3 stand-in, over HTTP)
      BACKUP_TARGETS_LOCAL: 'true',
      SFN_ENDPOINT: endpoints.services,
      SES_ENDPOINT: endpoints.services,
      EVENTS_ENDPOINT: endpoints.services,
      EVENT_BUS_NAME: names.eventBus,
      SQS_ENDPOINT: endpoints.services,
      WEBHOOK_QUEUE_URL: `${endpoints.services}/${ACCOUNT}/${names.webhookQueue}`,
      // alert webhooks may go to endpoints on this machine
      WEBHOOK_TARGETS_LOCAL: 'true',
      // uptime checks may watch sites and servers on this machine
      UPTIME_TARGETS_LOCAL: 'true',
      ...(options.uptimeCaFile ? { UPTIME_CA_FILE: options.uptimeCaFile } : {}),
      ...(options.webhookRetryBaseSeconds !== undefined
        ? { WEBHOOK_RETRY_BASE_SECONDS: String(options.webhookRetryBaseSeconds) }
        : {}),
      STS_ENDPOINT: endpoints.services,
      APIGATEWAY_ENDPOINT: endpoints.services,
      RESELLER_USAGE_PLAN_NAME: names.resellersUsagePlan,
      TENANT_DATA_ROLE_ARN: tenantDataRoleArn,
      LOCAL_PROVIDER_ENDPOINT: `${endpoints.services}/provider`,
      POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'INFO',
      POWERTOOLS_METRICS_DISABLED: 'true',
      // the calls emails show point at this gateway, unless the operator named a public address
      API_URL: process.env.API_URL ?? `http://localhost:${portOf(apiServer)}`,
      AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: '1',
      // sites on local hosts may deploy from repositories on this machine
      LOCAL_REPOSITORIES: 'true',
      ...(acme ? { ACME_DIRECTORY_URL: acme.directoryUrl, ACME_CA_FILE: acme.caFile } : {}),
    });
    const { resetConfig } = await import('../../layers/config/config');
    resetConfig();

    const dynamoClient = dynamoDbClient(endpoints.dynamodb);
    const kinesis = kinesisClient(endpoints.kinesis);
    const ssmClient = new SSMClient({ region: REGION, endpoint: endpoints.services, credentials });
    const [streamArn] = await Promise.all([
      ensureStream(kinesis, names.metricsStream, metricsStream.shardCount),
      ensureTable(dynamoClient, names.table),
    ]);
    // on engines shared with other runtimes (the test files'), the stream goes with this runtime
    if (options.engines) {
      cleanups.push(async () => {
        await kinesis
          .send(new DeleteStreamCommand({ StreamName: names.metricsStream, EnforceConsumerDeletion: true }))
          .catch(() => undefined);
      });
    }

    // SSM (Parameter Store, Run Command) and the local hosts behind it.
    const logs = makeLocalLogs();
    const ssm = makeLocalSsm({
      logs,
      dataDir: persist('ssm'),
      documents: Object.fromEntries(
        hostDocumentNames.map((d) => [hostDocumentName(STAGE, d), loadHostDocument(d) as never]),
      ),
      region: REGION,
    });
    const hosts = makeLocalHosts({
      hostsDir: join(dataDir, 'hosts'),
      registryPath: persist('hosts.json'),
      ssm,
      kinesis,
      streamName: names.metricsStream,
      bootDelayMs: options.hostBootDelayMs ?? 300,
      pingIntervalMs: 5_000,
      metricsIntervalMs: options.metricsIntervalMs ?? 5_000,
      unavailablePackages: options.unavailablePackages ?? [],
      crashingServices: options.crashingServices ?? [],
      databaseEngines: options.databaseEngines ?? true,
      resetsIgnoredFor: options.resetsIgnoredFor ?? [],
      log,
    });
    cleanups.push(() => hosts.stop());
    bootHost = (body) => hosts.handle('POST', '/v1/hosts', body);

    // The handler modules, imported once the environment points at the local engines: every
    // bounded context of the route table, the authorizer, the workflow tasks and the aggregator.
    const { routes, contexts } = await import('../../functions/api');
    const contextHandlers = Object.fromEntries(
      await Promise.all(
        contexts.map(async (context) => {
          const module = (await import(join(REPO_ROOT, context.entry))) as { handler: unknown };
          return [context.name, module.handler] as const;
        }),
      ),
    );
    const [authorizer, workflowTasks, aggregator, alertNotifier, webhookDelivery] = await Promise.all([
      import('../../functions/auth/authorizer'),
      import('../../functions/workflow-tasks'),
      import('../../functions/metrics/aggregator'),
      import('../../functions/alerts/notify'),
      import('../../functions/alerts/deliver'),
    ]);

    const resolveTask = makeTaskResolver({
      lambdas: {
        [names.workflowTasksFunction]: workflowTasks.handler as (event: unknown) => Promise<unknown>,
      },
      clients: { dynamodb: dynamoClient, ssm: ssmClient },
    });
    const substitutions = {
      WorkflowTasksFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${names.workflowTasksFunction}`,
      ...documentSubstitutions((d) => hostDocumentName(STAGE, d)),
      HostCommandLogGroupName: names.hostCommandLogs,
    };
    const stepFunctions = makeLocalStepFunctions({
      machines: Object.fromEntries(
        workflowNames.map((name) => [
          stateMachineArn(machinePrefix, name),
          loadWorkflow(name, substitutions) as never,
        ]),
      ),
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
    // EventBridge and SQS: alert transitions to the notifier, webhooks through their queue
    const eventBus = makeLocalEventBus({
      busName: names.eventBus,
      account: ACCOUNT,
      region: REGION,
      targets: { 'alert-notifier': (event) => alertNotifier.handler(event as never) },
      onDiscard: (event, rule) =>
        appendFileSync(join(dataDir, 'events-dlq.jsonl'), `${JSON.stringify({ rule, event })}\n`),
      log,
    });
    cleanups.push(() => eventBus.settle());
    const sqs = makeLocalSqs({ endpoint: endpoints.services, account: ACCOUNT, region: REGION });
    const webhookDeadLetters = sqs.createQueue(names.webhookDeadLetters, { visibilityTimeoutSeconds: 30 });
    const webhookQueueUrl = sqs.createQueue(names.webhookQueue, {
      visibilityTimeoutSeconds: webhookQueue.visibilityTimeoutSeconds,
      maxReceiveCount: webhookQueue.maxReceiveCount,
      deadLetter: names.webhookDeadLetters,
    });
    cleanups.push(
      sqs.startMapping(webhookQueueUrl, {
        batchSize: webhookQueue.batchSize,
        handler: (event) => webhookDelivery.handler(event),
        log,
      }),
    );
    const kms = makeLocalKms({ keyFile: persist('kms-key') });
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
    stsSession = (accessKeyId) => sts.session(accessKeyId);
    const { onTenantClient } = await import('../../layers/aws/dynamodb');
    cleanups.push(onTenantClient(enforceTenantPolicy(sts)));
    servicesServer.on('request', (request: IncomingMessage, response: ServerResponse) => {
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
        const setup = customMachineSetup(request.method ?? 'GET', url, body, {
          services: endpoints.services,
          boot: (userData) => hosts.handle('POST', '/v1/hosts', { name: 'custom-machine', userData }),
        });
        if (setup) {
          response.writeHead(setup.status, { 'content-type': setup.contentType });
          response.end(setup.body);
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
          Logs_20140328: logs.operations,
          TrentService: kms.operations,
          AWSEvents: eventBus.operations,
          AmazonSQS: sqs.operations,
        });
      });
    });

    const { ensureSecrets } = await import('../../layers/auth/secrets');
    await ensureSecrets(ssmClient, names.secretsParameter, { now: new Date() });

    const poller = startKinesisPoller({
      client: kinesis,
      mapping: {
        streamName: names.metricsStream,
        streamArn,
        region: REGION,
        batchSize: aggregatorMapping.batchSize,
        maxBatchingWindowMs:
          options.metricsBatchingWindowMs ?? aggregatorMapping.maxBatchingWindowSeconds * 1000,
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

    // The local scheduler: the scheduled tasks EventBridge Scheduler runs in AWS
    const runScheduled = (name: keyof typeof scheduledTasks) =>
      workflowTasks.handler({ action: scheduledTasks[name].action, input: { correlationId: name } });
    for (const name of Object.keys(scheduledTasks) as (keyof typeof scheduledTasks)[]) {
      const timer = setInterval(
        () => {
          runScheduled(name).catch((error: unknown) => log(`${name} failed: ${String(error)}`));
        },
        options.scheduleIntervalMs ?? scheduledTasks[name].everyMinutes * 60_000,
      );
      timer.unref();
      cleanups.push(() => clearInterval(timer));
    }
    const sweepCertificates = () => runScheduled('certificate-sweep');
    const refreshDatabases = () => runScheduled('database-refresh');
    const runBackupSchedules = () => runScheduled('backup-schedule');
    const runUptimeChecks = () => runScheduled('uptime-sweep');

    const { getPlatform } = await import('../../layers/runtime/platform');
    const { siteAnswering } = await import('../../layers/model/sites');
    makeFrontDoor({
      resolve: async (domain) => (await siteAnswering((await getPlatform()).store, domain))?.servedAt,
      log,
    }).serve(frontDoorServer);

    const gateway = makeGateway({
      routes,
      handlers: contextHandlers as never,
      authorizer: authorizer.handler,
      stage: STAGE,
      region: REGION,
      corsOrigins: process.env.CORS_ORIGINS ?? '*',
      usageKeys: apiKeys,
    });
    stopStarting();
    gateway.serve(apiServer);
    const port = portOf(apiServer);

    let stopped = false;
    return {
      url: `http://localhost:${port}`,
      port,
      dataDir,
      endpoints,
      clients: { dynamodb: dynamoClient, kinesis, ssm: ssmClient },
      names,
      outboxPath: ses.outboxPath,
      /** where any site of this runtime answers by its domain, as port 80 would (`curl -H 'Host: …'`) */
      frontDoor: `http://127.0.0.1:${portOf(frontDoorServer)}`,
      /** the local git server: bare repositories under `root`, at `${url}/<name>.git` */
      git: { root: git.root, url: `http://127.0.0.1:${portOf(gitServer)}` },
      /** the local ACME directory (pebble), when this machine has it */
      acme,
      /** Route 53's API, whose hosted zones (`addZone`) prove their domains by DNS-01 */
      route53,
      /** the metrics stream's consumer: how far behind it reads, per shard */
      metricsPoller: { progress: () => poller.progress() },
      /** the EventBridge bus: every event put on it, and `settle` to wait for its targets */
      eventBus,
      /** the alert webhooks' queue and its dead-letter queue */
      webhooks: { queueUrl: webhookQueueUrl, deadLetterUrl: webhookDeadLetters, bodies: sqs.bodies },
      /** S3's API for backups, and the platform's bucket in it */
      s3: { ...s3, bucket: backupsBucket },
      /** runs the certificates sweep now, as the schedule does every 6 hours */
      sweepCertificates,
      /** reads every database engine's state and sizes now, as the schedule does every 6 hours */
      refreshDatabases,
      /** starts the scheduled backups that are due now, as the schedule does every 5 minutes */
      runBackupSchedules,
      /** probes the uptime checks that are due now, as the schedule does every minute */
      runUptimeChecks,
      /** the provider APIs this runtime stands in for, by the variable that points at each */
      cloudFakes: cloud?.env ?? {},
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
        for (const client of [dynamoClient, kinesis, ssmClient]) client.destroy();
        await Promise.all(engines.map((engine) => engine.stop()));
        if (inMemory) rmSync(dataDir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await bounded(cleanup, log);
    for (const server of httpServers) server.close();
    await Promise.all(engines.map((engine) => engine.stop()));
    if (inMemory) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
}

export type LocalRuntime = Awaited<ReturnType<typeof startLocalRuntime>>;
