import { type FakeEc2, startFakeEc2 } from '../fakes/ec2';
import { type FakeMachine, type FakeProvider, startFakeProvider } from '../fakes/providers';

/**
 * The credentials the local provider APIs accept, for the README's provider steps. Any other
 * token or key is refused as the real provider would refuse it.
 */
export const localProviderCredentials = {
  hetzner: { token: 'local-hetzner-token' },
  digitalocean: { token: 'local-digitalocean-token' },
  vultr: { token: 'local-vultr-token' },
  aws: {
    accessKeyId: 'AKIALOCALEXAMPLE0000',
    secretAccessKey: 'LocalFakeEc2SecretAccessKey0000000000000',
  },
} as const;

/** What plays the providers' machines: a local host booted from the user data each received. */
export interface MachineHost {
  boot(machine: FakeMachine): void;
  shutDown(machine: FakeMachine): void;
}

/**
 * Hetzner, DigitalOcean, Vultr and EC2 as local stand-ins of their public APIs
 * (scripts/fakes), for `npm start`: a provider whose API address the environment already names
 * is left to it. Answers the environment that points the clients at the fakes.
 */
export async function startCloudFakes(options: {
  machines: MachineHost;
  /** temporary credentials the local STS issued, which EC2 accepts as the real one does */
  sessions: (accessKeyId: string) => { secretAccessKey: string; sessionToken: string } | undefined;
  env: NodeJS.ProcessEnv;
}) {
  const hooks = {
    bootMs: 200,
    onCreate: (m: FakeMachine) => options.machines.boot(m),
    onDelete: (m: FakeMachine) => options.machines.shutDown(m),
  };
  const env: Record<string, string> = {};
  const started: (FakeProvider | FakeEc2)[] = [];
  const apis = [
    ['hetzner', 'HETZNER_API_URL'],
    ['digitalocean', 'DIGITALOCEAN_API_URL'],
    ['vultr', 'VULTR_API_URL'],
  ] as const;
  for (const [kind, variable] of apis) {
    if (options.env[variable]) continue;
    const fake = await startFakeProvider(kind, { token: localProviderCredentials[kind].token, ...hooks });
    started.push(fake);
    env[variable] = fake.baseUrl;
  }
  if (!options.env.EC2_ENDPOINT) {
    const ec2 = await startFakeEc2({ ...localProviderCredentials.aws, sessions: options.sessions, ...hooks });
    started.push(ec2);
    env.EC2_ENDPOINT = ec2.endpoint;
  }
  return {
    env,
    async stop() {
      await Promise.all(started.map((fake) => fake.stop()));
    },
  };
}
