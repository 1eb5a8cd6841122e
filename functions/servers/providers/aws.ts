import { createHash } from 'node:crypto';
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeRegionsCommand,
  DescribeSecurityGroupsCommand,
  EC2Client,
  EC2ServiceException,
  type Instance,
  paginateDescribeInstanceTypes,
  RebootInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import {
  type CloudProvider,
  ProviderAuthError,
  type ProviderChoice,
  type ProviderHost,
  ProviderRequestError,
  ProviderTransientError,
} from './provider';

/** A tenant's AWS access key, as saved with its credentials (JSON in the SecureString). */
export interface AwsAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * A role in the tenant's account that trusts the platform's account with an external id (the
 * tenant's id, fixed when the role was saved): no long-lived key of the tenant's is kept.
 */
export interface AwsRole {
  roleArn: string;
  externalId: string;
}

/** What a role's name must start with, so the platform's functions may assume only such roles. */
export const ROLE_NAME_PREFIX = 'vip-hosting-';

/** Canonical's account and its Ubuntu 24.04 image names; the newest one is used. */
export const UBUNTU_OWNER = '099720109477';
export const UBUNTU_IMAGES = 'ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*';
/** The security group every host gets in a region: SSH, HTTP and HTTPS in, as the bootstrap's firewall. */
export const SECURITY_GROUP = 'vip-hosting-web';
/** The instance families offered: current general-purpose, compute and memory x86 ones. */
const FAMILIES = ['t3.*', 't3a.*', 'm7i.*', 'c7i.*', 'r7i.*'];
/** Where DescribeRegions is asked and credentials are checked when no server region applies. */
const HOME_REGION = 'us-east-1';

const AUTH_CODES = new Set([
  'AccessDenied',
  'AuthFailure',
  'UnauthorizedOperation',
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'OptInRequired',
]);
const THROTTLE_CODES = new Set(['RequestLimitExceeded', 'Throttling', 'ThrottlingException']);

/** An error the AWS SDK got from a service: EC2's own, or STS's while it assumed the tenant's role. */
const isServiceError = (error: unknown): error is Error & { $metadata: { httpStatusCode?: number } } =>
  error instanceof EC2ServiceException ||
  (error instanceof Error && '$fault' in error && '$metadata' in error);

/** EC2's errors in the shapes the workflows retry or report, like the other providers' clients. */
function translate(error: unknown, action: string): Error {
  if (isServiceError(error)) {
    const status = error.$metadata.httpStatusCode ?? 0;
    const message = `AWS EC2 answered ${status || 'an error'} to ${action}: ${error.name}: ${error.message}`;
    if (THROTTLE_CODES.has(error.name) || status >= 500) return new ProviderTransientError(message);
    if (AUTH_CODES.has(error.name) || status === 401 || status === 403) return new ProviderAuthError(message);
    return new ProviderRequestError(message, status || 400);
  }
  return new ProviderTransientError(`AWS EC2 did not answer ${action}`, { cause: error });
}

const stateOf = (name: string | undefined): ProviderHost['status'] | 'gone' =>
  name === 'running'
    ? 'running'
    : name === 'pending'
      ? 'creating'
      : name === 'shutting-down' || name === 'terminated'
        ? 'gone'
        : 'off';

const toHost = (instance: Instance): ProviderHost => {
  const status = stateOf(instance.State?.Name);
  return {
    id: instance.InstanceId ?? '',
    status: status === 'gone' ? 'off' : status,
    ipv4: instance.PublicIpAddress ?? null,
  };
};

/**
 * AWS EC2 in the tenant's own account, through the EC2 API with the tenant's access key:
 * Ubuntu 24.04 from Canonical's newest image, user data, tags as labels, IMDSv2 only, and a
 * security group opening 22, 80 and 443. RunInstances carries a client token derived from the
 * user data, so a retried attempt never starts a second instance. The SDK does not retry:
 * throttling and 5xx become ProviderTransientError, and the workflow retries with backoff.
 */
export function awsProvider(options: {
  key: AwsAccessKey | AwsRole;
  /** the server's region; DescribeRegions and the credentials check use us-east-1 */
  region?: string | undefined;
  /** an EC2 endpoint other than AWS's (the local fake) */
  endpoint?: string | undefined;
  /** an STS endpoint other than AWS's (the local stand-in) */
  stsEndpoint?: string | undefined;
}): CloudProvider {
  const { key } = options;
  // a role's short sessions are assumed when needed and refreshed before they expire
  const credentials =
    'roleArn' in key
      ? fromTemporaryCredentials({
          params: {
            RoleArn: key.roleArn,
            ExternalId: key.externalId,
            RoleSessionName: 'vip-hosting-panel',
            DurationSeconds: 900,
          },
          clientConfig: {
            region: options.region ?? HOME_REGION,
            maxAttempts: 1,
            ...(options.stsEndpoint ? { endpoint: options.stsEndpoint } : {}),
          },
        })
      : key;
  const clients = new Map<string, EC2Client>();
  const client = (region = options.region ?? HOME_REGION) => {
    let ec2 = clients.get(region);
    if (!ec2) {
      ec2 = new EC2Client({
        region,
        credentials,
        maxAttempts: 1,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      });
      clients.set(region, ec2);
    }
    return ec2;
  };
  async function call<T>(action: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw translate(error, action);
    }
  }

  async function latestUbuntu(region: string): Promise<string> {
    const { Images = [] } = await call('DescribeImages', () =>
      client(region).send(
        new DescribeImagesCommand({
          Owners: [UBUNTU_OWNER],
          Filters: [
            { Name: 'name', Values: [UBUNTU_IMAGES] },
            { Name: 'state', Values: ['available'] },
          ],
        }),
      ),
    );
    const newest = Images.filter((image) => image.ImageId).sort((a, b) =>
      (b.CreationDate ?? '').localeCompare(a.CreationDate ?? ''),
    )[0];
    if (!newest?.ImageId) throw new ProviderRequestError(`No Ubuntu 24.04 image in ${region}`, 400);
    return newest.ImageId;
  }

  async function securityGroup(region: string): Promise<string> {
    const { SecurityGroups = [] } = await call('DescribeSecurityGroups', () =>
      client(region).send(
        new DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [SECURITY_GROUP] }] }),
      ),
    );
    const existing = SecurityGroups[0]?.GroupId;
    if (existing) return existing;
    const { GroupId } = await call('CreateSecurityGroup', () =>
      client(region).send(
        new CreateSecurityGroupCommand({
          GroupName: SECURITY_GROUP,
          Description: 'VIP Hosting Panel hosts: SSH, HTTP and HTTPS',
        }),
      ),
    );
    if (!GroupId) throw new ProviderTransientError('AWS EC2 created a security group without an id');
    await call('AuthorizeSecurityGroupIngress', () =>
      client(region).send(
        new AuthorizeSecurityGroupIngressCommand({
          GroupId,
          IpPermissions: [22, 80, 443].map((port) => ({
            IpProtocol: 'tcp',
            FromPort: port,
            ToPort: port,
            IpRanges: [{ CidrIp: '0.0.0.0/0' }],
            Ipv6Ranges: [{ CidrIpv6: '::/0' }],
          })),
        }),
      ),
    );
    return GroupId;
  }

  async function describe(filters: { Name: string; Values: string[] }[], instanceIds?: string[]) {
    try {
      const { Reservations = [] } = await client().send(
        new DescribeInstancesCommand({
          ...(instanceIds ? { InstanceIds: instanceIds } : {}),
          Filters: filters,
        }),
      );
      return Reservations.flatMap((reservation) => reservation.Instances ?? []);
    } catch (error) {
      if (error instanceof EC2ServiceException && error.name === 'InvalidInstanceID.NotFound') return [];
      throw translate(error, 'DescribeInstances');
    }
  }

  return {
    async listRegions(): Promise<ProviderChoice[]> {
      const { Regions = [] } = await call('DescribeRegions', () =>
        client(HOME_REGION).send(new DescribeRegionsCommand({})),
      );
      return Regions.filter((r) => r.RegionName).map((r) => ({
        id: r.RegionName as string,
        description: r.Endpoint ?? (r.RegionName as string),
      }));
    },
    async listSizes(): Promise<ProviderChoice[]> {
      const sizes: ProviderChoice[] = [];
      await call('DescribeInstanceTypes', async () => {
        const pages = paginateDescribeInstanceTypes(
          { client: client() },
          {
            Filters: [
              { Name: 'instance-type', Values: FAMILIES },
              { Name: 'current-generation', Values: ['true'] },
              { Name: 'processor-info.supported-architecture', Values: ['x86_64'] },
            ],
          },
        );
        for await (const page of pages) {
          for (const type of page.InstanceTypes ?? []) {
            if (!type.InstanceType) continue;
            sizes.push({
              id: type.InstanceType,
              description: `${type.VCpuInfo?.DefaultVCpus ?? '?'} vCPU, ${type.MemoryInfo?.SizeInMiB ?? '?'} MiB`,
            });
          }
        }
      });
      return sizes.sort((a, b) => a.id.localeCompare(b.id));
    },
    async createHost(input) {
      const [imageId, groupId] = await Promise.all([latestUbuntu(input.region), securityGroup(input.region)]);
      const tags = [
        { Key: 'Name', Value: input.name },
        ...Object.entries(input.labels).map(([Key, Value]) => ({ Key, Value })),
      ];
      const { Instances = [] } = await call('RunInstances', () =>
        client(input.region).send(
          new RunInstancesCommand({
            ImageId: imageId,
            InstanceType: input.size as never,
            MinCount: 1,
            MaxCount: 1,
            SecurityGroupIds: [groupId],
            UserData: Buffer.from(input.userData, 'utf8').toString('base64'),
            MetadataOptions: { HttpTokens: 'required', HttpEndpoint: 'enabled' },
            TagSpecifications: [
              { ResourceType: 'instance', Tags: tags },
              { ResourceType: 'volume', Tags: tags },
            ],
            // the same attempt (same activation in its user data) never starts two instances
            ClientToken: createHash('sha256').update(input.userData).digest('hex').slice(0, 64),
          }),
        ),
      );
      const instance = Instances[0];
      if (!instance?.InstanceId) throw new ProviderTransientError('AWS EC2 started no instance');
      return toHost(instance);
    },
    async getHost(hostId) {
      const [instance] = await describe([], [hostId]);
      if (!instance || stateOf(instance.State?.Name) === 'gone') return undefined;
      return toHost(instance);
    },
    async hostsLabelled(key, value) {
      const instances = await describe([
        { Name: `tag:${key}`, Values: [value] },
        { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
      ]);
      return instances.map(toHost);
    },
    async rebootHost(hostId) {
      await call('RebootInstances', () =>
        client().send(new RebootInstancesCommand({ InstanceIds: [hostId] })),
      );
    },
    async deleteHost(hostId) {
      try {
        await client().send(new TerminateInstancesCommand({ InstanceIds: [hostId] }));
      } catch (error) {
        if (error instanceof EC2ServiceException && error.name === 'InvalidInstanceID.NotFound') return;
        throw translate(error, 'TerminateInstances');
      }
    },
    async checkCredentials() {
      await call('DescribeRegions', () => client(HOME_REGION).send(new DescribeRegionsCommand({})));
    },
  };
}
