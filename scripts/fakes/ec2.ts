import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { listenLocally } from './listen';
import type { FakeMachine } from './providers';
import { Sha256 } from './sha256';

const NS = 'http://ec2.amazonaws.com/doc/2016-11-15/';
const xml = (value: string) =>
  value.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );

/** SHA-256 for the SigV4 signer, on node:crypto (an HMAC when given a secret). */
const catalogue = {
  regions: ['us-east-1', 'eu-central-1', 'eu-west-1'],
  sizes: [
    { type: 't3.small', vcpus: 2, mib: 2048 },
    { type: 't3.medium', vcpus: 2, mib: 4096 },
    { type: 'm7i.large', vcpus: 2, mib: 8192 },
  ],
};

export interface FakeInstance extends FakeMachine {
  imageId: string;
  securityGroupIds: string[];
  clientToken: string;
  metadataTokens: string;
  state: 'pending' | 'running' | 'stopped' | 'shutting-down' | 'terminated';
}

interface Answer {
  status: number;
  body: string;
}

/**
 * A local stand-in for the Amazon EC2 API as its reference documents it: the Query protocol
 * (form-encoded `Action=...&Version=2016-11-15`, XML answers in the 2016-11-15 namespace),
 * SigV4-signed requests checked against the one access key it knows or a role session STS
 * issued (an unknown key or session token is `AuthFailure`, a wrong secret
 * `SignatureDoesNotMatch`), `RequestLimitExceeded` as 503,
 * and the actions a hosting control plane uses: regions, instance types, Canonical's images,
 * security groups, RunInstances with ClientToken idempotency, DescribeInstances with tag
 * filters, reboot and terminate. Instances run after `bootMs` and are remembered terminated.
 */
export async function startFakeEc2(options: {
  accessKeyId: string;
  secretAccessKey: string;
  /** temporary credentials STS handed out for a role in this account (an assumed role's session) */
  sessions?: (accessKeyId: string) => { secretAccessKey: string; sessionToken: string } | undefined;
  bootMs?: number;
  onCreate?: (instance: FakeInstance) => void;
  onDelete?: (instance: FakeInstance) => void;
}) {
  const instances = new Map<string, FakeInstance>();
  const groups = new Map<string, { id: string; name: string; region: string; ingress: number[] }>();
  const faults: { status: number; action?: string; afterDoing?: boolean }[] = [];
  const requests: { action: string; region: string; accessKeyId: string; params: Record<string, string> }[] =
    [];
  const images = [
    {
      id: 'ami-0aaa1111bbbb22220',
      name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20260901',
      date: '2026-09-01T00:00:00.000Z',
    },
    {
      id: 'ami-0ccc3333dddd44440',
      name: 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-20261101',
      date: '2026-11-01T00:00:00.000Z',
    },
  ];

  const error = (status: number, code: string, message: string): Answer => ({
    status,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${code}</Code><Message>${xml(message)}</Message></Error></Errors><RequestID>${randomUUID()}</RequestID></Response>`,
  });
  const ok = (action: string, inner: string): Answer => ({
    status: 200,
    body: `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NS}"><requestId>${randomUUID()}</requestId>${inner}</${action}Response>`,
  });
  const items = (values: string[]) => values.map((v) => `<item>${v}</item>`).join('');
  /** `Prefix.1`, `Prefix.2`... of a Query-protocol list. */
  const list = (params: Record<string, string>, prefix: string) => {
    const values: string[] = [];
    for (let i = 1; params[`${prefix}.${i}`] !== undefined; i += 1)
      values.push(params[`${prefix}.${i}`] as string);
    return values;
  };
  const filters = (params: Record<string, string>) => {
    const found: { name: string; values: string[] }[] = [];
    for (let i = 1; params[`Filter.${i}.Name`] !== undefined; i += 1) {
      found.push({ name: params[`Filter.${i}.Name`] as string, values: list(params, `Filter.${i}.Value`) });
    }
    return found;
  };
  const wildcard = (pattern: string, value: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    ).test(value);

  const stateCode = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopped: 80 } as const;
  const instanceXml = (i: FakeInstance) =>
    [
      `<instanceId>${i.id}</instanceId><imageId>${i.imageId}</imageId>`,
      `<instanceState><code>${stateCode[i.state]}</code><name>${i.state}</name></instanceState>`,
      `<instanceType>${i.size}</instanceType><placement><availabilityZone>${i.region}a</availabilityZone></placement>`,
      i.state === 'running' ? `<ipAddress>${i.ipv4}</ipAddress>` : '',
      `<clientToken>${xml(i.clientToken)}</clientToken>`,
      `<metadataOptions><httpTokens>${i.metadataTokens}</httpTokens></metadataOptions>`,
      `<groupSet>${items(i.securityGroupIds.map((g) => `<groupId>${g}</groupId>`))}</groupSet>`,
      `<tagSet>${items([['Name', i.name], ...Object.entries(i.labels)].map(([k, v]) => `<key>${xml(k ?? '')}</key><value>${xml(v ?? '')}</value>`))}</tagSet>`,
    ].join('');

  function runInstances(region: string, p: Record<string, string>): Answer {
    if (!catalogue.sizes.some((s) => s.type === p.InstanceType)) {
      return error(400, 'InvalidParameterValue', `Invalid value '${p.InstanceType}' for InstanceType.`);
    }
    if (!images.some((image) => image.id === p.ImageId)) {
      return error(400, 'InvalidAMIID.NotFound', `The image id '[${p.ImageId}]' does not exist`);
    }
    const token = p.ClientToken ?? '';
    const earlier = token ? [...instances.values()].find((i) => i.clientToken === token) : undefined;
    if (earlier) {
      return ok(
        'RunInstances',
        `<reservationId>r-${earlier.id.slice(2)}</reservationId><instancesSet><item>${instanceXml(earlier)}</item></instancesSet>`,
      );
    }
    const labels: Record<string, string> = {};
    for (let t = 1; p[`TagSpecification.${t}.ResourceType`] !== undefined; t += 1) {
      if (p[`TagSpecification.${t}.ResourceType`] !== 'instance') continue;
      for (let k = 1; p[`TagSpecification.${t}.Tag.${k}.Key`] !== undefined; k += 1) {
        labels[p[`TagSpecification.${t}.Tag.${k}.Key`] as string] =
          p[`TagSpecification.${t}.Tag.${k}.Value`] ?? '';
      }
    }
    const { Name: name = '', ...rest } = labels;
    const instance: FakeInstance = {
      id: `i-${randomBytes(8).toString('hex').slice(0, 17)}`,
      name,
      region,
      size: p.InstanceType ?? '',
      userData: Buffer.from(p.UserData ?? '', 'base64').toString('utf8'),
      status: 'creating',
      labels: rest,
      rebootCount: 0,
      ipv4: `198.51.100.${instances.size + 10}`,
      imageId: p.ImageId ?? '',
      securityGroupIds: list(p, 'SecurityGroupId'),
      clientToken: token,
      metadataTokens: p['MetadataOptions.HttpTokens'] ?? 'optional',
      state: 'pending',
    };
    instances.set(instance.id, instance);
    setTimeout(() => {
      if (instance.state === 'pending') {
        instance.state = 'running';
        instance.status = 'running';
      }
    }, options.bootMs ?? 50).unref();
    options.onCreate?.(instance);
    return ok(
      'RunInstances',
      `<reservationId>r-${instance.id.slice(2)}</reservationId><instancesSet><item>${instanceXml(instance)}</item></instancesSet>`,
    );
  }

  function describeInstances(region: string, p: Record<string, string>): Answer {
    const ids = list(p, 'InstanceId');
    const unknown = ids.find((id) => !instances.has(id));
    if (unknown)
      return error(400, 'InvalidInstanceID.NotFound', `The instance ID '${unknown}' does not exist`);
    const matching = [...instances.values()].filter(
      (i) =>
        i.region === region &&
        (ids.length === 0 || ids.includes(i.id)) &&
        filters(p).every(({ name, values }) => {
          if (name === 'instance-state-name') return values.includes(i.state);
          if (name.startsWith('tag:')) return values.includes(i.labels[name.slice(4)] ?? '');
          return true;
        }),
    );
    return ok(
      'DescribeInstances',
      `<reservationSet>${items(matching.map((i) => `<reservationId>r-${i.id.slice(2)}</reservationId><instancesSet><item>${instanceXml(i)}</item></instancesSet>`))}</reservationSet>`,
    );
  }

  function changeState(p: Record<string, string>, action: 'TerminateInstances' | 'RebootInstances'): Answer {
    const ids = list(p, 'InstanceId');
    const unknown = ids.find((id) => !instances.has(id));
    if (unknown)
      return error(400, 'InvalidInstanceID.NotFound', `The instance ID '${unknown}' does not exist`);
    if (action === 'RebootInstances') {
      for (const id of ids) (instances.get(id) as FakeInstance).rebootCount += 1;
      return ok(action, '<return>true</return>');
    }
    const changes = ids.map((id) => {
      const instance = instances.get(id) as FakeInstance;
      const previous = instance.state;
      if (previous !== 'terminated') {
        instance.state = 'terminated';
        instance.status = 'off';
        options.onDelete?.(instance);
      }
      return `<instanceId>${id}</instanceId><currentState><code>48</code><name>terminated</name></currentState><previousState><code>${stateCode[previous]}</code><name>${previous}</name></previousState>`;
    });
    return ok(action, `<instancesSet>${items(changes)}</instancesSet>`);
  }

  function route(action: string, region: string, p: Record<string, string>): Answer {
    switch (action) {
      case 'DescribeRegions':
        return ok(
          action,
          `<regionInfo>${items(catalogue.regions.map((r) => `<regionName>${r}</regionName><regionEndpoint>ec2.${r}.amazonaws.com</regionEndpoint><optInStatus>opt-in-not-required</optInStatus>`))}</regionInfo>`,
        );
      case 'DescribeInstanceTypes': {
        const wanted = filters(p).find((f) => f.name === 'instance-type')?.values ?? ['*'];
        const types = catalogue.sizes.filter((s) => wanted.some((w) => wildcard(w, s.type)));
        return ok(
          action,
          `<instanceTypeSet>${items(types.map((s) => `<instanceType>${s.type}</instanceType><currentGeneration>true</currentGeneration><vCpuInfo><defaultVCpus>${s.vcpus}</defaultVCpus></vCpuInfo><memoryInfo><sizeInMiB>${s.mib}</sizeInMiB></memoryInfo>`))}</instanceTypeSet>`,
        );
      }
      case 'DescribeImages': {
        const owners = list(p, 'Owner');
        const name = filters(p).find((f) => f.name === 'name')?.values[0] ?? '*';
        const found = owners.includes('099720109477') ? images.filter((i) => wildcard(name, i.name)) : [];
        return ok(
          action,
          `<imagesSet>${items(found.map((i) => `<imageId>${i.id}</imageId><name>${i.name}</name><creationDate>${i.date}</creationDate><imageState>available</imageState><imageOwnerId>099720109477</imageOwnerId>`))}</imagesSet>`,
        );
      }
      case 'DescribeSecurityGroups': {
        const name = filters(p).find((f) => f.name === 'group-name')?.values ?? [];
        const found = [...groups.values()].filter(
          (g) => g.region === region && (name.length === 0 || name.includes(g.name)),
        );
        return ok(
          action,
          `<securityGroupInfo>${items(found.map((g) => `<groupId>${g.id}</groupId><groupName>${xml(g.name)}</groupName>`))}</securityGroupInfo>`,
        );
      }
      case 'CreateSecurityGroup': {
        const name = p.GroupName ?? '';
        if ([...groups.values()].some((g) => g.region === region && g.name === name)) {
          return error(400, 'InvalidGroup.Duplicate', `The security group '${name}' already exists`);
        }
        const group = { id: `sg-${randomBytes(8).toString('hex')}`, name, region, ingress: [] as number[] };
        groups.set(group.id, group);
        return ok(action, `<return>true</return><groupId>${group.id}</groupId>`);
      }
      case 'AuthorizeSecurityGroupIngress': {
        const group = groups.get(p.GroupId ?? '');
        if (!group)
          return error(400, 'InvalidGroup.NotFound', `The security group '${p.GroupId}' does not exist`);
        for (let i = 1; p[`IpPermissions.${i}.FromPort`] !== undefined; i += 1) {
          group.ingress.push(Number(p[`IpPermissions.${i}.FromPort`]));
        }
        return ok(action, '<return>true</return>');
      }
      case 'RunInstances':
        return runInstances(region, p);
      case 'DescribeInstances':
        return describeInstances(region, p);
      case 'TerminateInstances':
      case 'RebootInstances':
        return changeState(p, action);
      default:
        return error(400, 'InvalidAction', `The action ${action} is not valid for this web service.`);
    }
  }

  const signers = new Map<string, SignatureV4>();
  /** Checks the SigV4 signature as EC2 would: the key must be the one it knows, the signature its secret's. */
  async function authenticate(
    request: IncomingMessage,
    body: string,
  ): Promise<{ region: string; accessKeyId: string } | Answer> {
    const authorization = String(request.headers.authorization ?? '');
    const match =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/ec2\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
        authorization,
      );
    if (!match)
      return error(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials');
    const [, keyId = '', , region = '', signedHeaders = ''] = match;
    const session = keyId === options.accessKeyId ? undefined : options.sessions?.(keyId);
    if (keyId !== options.accessKeyId && !session) {
      return error(401, 'AuthFailure', 'AWS was not able to validate the provided access credentials');
    }
    if (session && request.headers['x-amz-security-token'] !== session.sessionToken) {
      return error(401, 'AuthFailure', 'The security token included in the request is invalid.');
    }
    let signer = signers.get(`${keyId}/${region}`);
    if (!signer) {
      signer = new SignatureV4({
        service: 'ec2',
        region,
        credentials: session
          ? {
              accessKeyId: keyId,
              secretAccessKey: session.secretAccessKey,
              sessionToken: session.sessionToken,
            }
          : { accessKeyId: options.accessKeyId, secretAccessKey: options.secretAccessKey },
        sha256: Sha256,
      });
      signers.set(`${keyId}/${region}`, signer);
    }
    const headers: Record<string, string> = {};
    for (const name of signedHeaders.split(';')) headers[name] = String(request.headers[name] ?? '');
    const amzDate = headers['x-amz-date'] ?? '';
    const signingDate = new Date(
      `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
    );
    const [path = '/', search = ''] = (request.url ?? '/').split('?');
    const signed = await signer.sign(
      {
        method: request.method ?? 'POST',
        protocol: 'http:',
        hostname: (headers.host ?? '').split(':')[0] ?? '',
        path,
        query: Object.fromEntries(new URLSearchParams(search)),
        headers,
        body,
      },
      { signingDate },
    );
    if (signed.headers.authorization !== authorization) {
      return error(
        403,
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided.',
      );
    }
    return { region, accessKeyId: keyId };
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const params = Object.fromEntries(new URLSearchParams(body));
    const action = params.Action ?? '';
    const auth = await authenticate(request, body);
    let answer: Answer;
    if ('status' in auth) {
      answer = auth;
    } else {
      requests.push({ action, region: auth.region, accessKeyId: auth.accessKeyId, params });
      const index = faults.findIndex((f) => !f.action || f.action === action);
      const fault = index >= 0 ? faults.splice(index, 1)[0] : undefined;
      if (fault?.afterDoing) {
        route(action, auth.region, params);
        answer = error(fault.status, 'InternalError', 'An internal error has occurred');
      } else if (fault?.status === 503) {
        answer = error(503, 'RequestLimitExceeded', 'Request limit exceeded.');
      } else if (fault) {
        answer = error(fault.status, 'InternalError', 'An internal error has occurred');
      } else {
        answer = route(action, auth.region, params);
      }
    }
    response.writeHead(answer.status, { 'content-type': 'text/xml;charset=UTF-8' });
    response.end(answer.body);
  }

  const { port, stop } = await listenLocally(handle);
  return {
    endpoint: `http://127.0.0.1:${port}`,
    instances,
    groups,
    requests,
    /** Instances not terminated. */
    live: () => [...instances.values()].filter((i) => i.state !== 'terminated'),
    /** The next requests (of this action) answer these statuses: 503 is RequestLimitExceeded, others InternalError. */
    failOn(action: string | undefined, ...statuses: number[]) {
      faults.push(...statuses.map((status) => (action ? { status, action } : { status })));
    },
    /** The next request of this action is carried out, but its answer is lost (a 500). */
    loseAnswerOn(action: string) {
      faults.push({ status: 500, action, afterDoing: true });
    },
    clearFaults() {
      faults.length = 0;
    },
    stop,
  };
}

export type FakeEc2 = Awaited<ReturnType<typeof startFakeEc2>>;
