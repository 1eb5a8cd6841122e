import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLocally } from './listen';

export type FakeProviderKind = 'hetzner' | 'digitalocean' | 'vultr';

/** A machine the fake provider holds, with what it was created with. */
export interface FakeMachine {
  id: string;
  name: string;
  region: string;
  size: string;
  userData: string;
  status: 'creating' | 'running' | 'off';
  /** labels as `key=value` (Hetzner's labels, DigitalOcean's and Vultr's `key:value` tags) */
  labels: Record<string, string>;
  rebootCount: number;
  ipv4: string;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const catalogue = {
  hetzner: { regions: ['fsn1', 'nbg1', 'hel1'], sizes: ['cx22', 'cx32', 'cpx21'] },
  digitalocean: { regions: ['nyc3', 'fra1', 'ams3'], sizes: ['s-1vcpu-1gb', 's-2vcpu-2gb'] },
  vultr: { regions: ['ewr', 'fra', 'ams'], sizes: ['vc2-1c-1gb', 'vc2-2c-4gb'] },
} as const;

/**
 * A local stand-in for a cloud provider's public HTTP API, as its documentation describes
 * the requests, answers and error bodies: Hetzner Cloud (`/v1`), DigitalOcean (`/v2`) and
 * Vultr (`/v2`). It checks the bearer token, keeps machines in memory (a new one runs after
 * `bootMs`), and injects faults on demand: `failNext(429)` answers a rate-limit error with
 * the provider's headers, `failNext(503)` a server error.
 */
export async function startFakeProvider(
  kind: FakeProviderKind,
  options: {
    token: string;
    bootMs?: number;
    onCreate?: (machine: FakeMachine) => void;
    onDelete?: (machine: FakeMachine) => void;
    /** whether a new machine ever reaches running (default: always) */
    boots?: (machine: FakeMachine) => boolean;
  } = { token: 'good-token' },
) {
  const machines = new Map<string, FakeMachine>();
  const faults: { status: number; method?: string; path?: string; afterDoing?: boolean }[] = [];
  const requests: { method: string; path: string; body: unknown }[] = [];
  let nextId = 1000;
  let acceptedToken = options.token;

  const error = (status: number, code: string, message: string): Answer => {
    const rateHeaders: Record<string, string> =
      status === 429
        ? {
            'RateLimit-Limit': '3600',
            'RateLimit-Remaining': '0',
            'RateLimit-Reset': String(Math.floor(Date.now() / 1000) + 1),
          }
        : {};
    switch (kind) {
      case 'hetzner':
        return { status, body: { error: { code, message, details: {} } }, headers: rateHeaders };
      case 'digitalocean':
        return { status, body: { id: code, message, request_id: randomUUID() }, headers: rateHeaders };
      case 'vultr':
        return { status, body: { error: message, status } };
    }
  };

  const machineView = (m: FakeMachine) => {
    switch (kind) {
      case 'hetzner':
        return {
          server: {
            id: Number(m.id),
            name: m.name,
            status: m.status === 'creating' ? 'initializing' : m.status,
            public_net: { ipv4: { ip: m.ipv4 } },
            server_type: { name: m.size },
            datacenter: { location: { name: m.region } },
          },
        };
      case 'digitalocean':
        return {
          droplet: {
            id: Number(m.id),
            name: m.name,
            status: m.status === 'creating' ? 'new' : m.status === 'running' ? 'active' : 'off',
            networks: { v4: m.status === 'creating' ? [] : [{ ip_address: m.ipv4, type: 'public' }] },
            region: { slug: m.region },
            size_slug: m.size,
          },
        };
      case 'vultr':
        return {
          instance: {
            id: m.id,
            label: m.name,
            status: m.status === 'creating' ? 'pending' : 'active',
            power_status: m.status === 'off' ? 'stopped' : 'running',
            main_ip: m.status === 'creating' ? '0.0.0.0' : m.ipv4,
            region: m.region,
            plan: m.size,
          },
        };
    }
  };

  function create(body: Record<string, unknown>): Answer {
    const region = String(body.location ?? body.region ?? '');
    const size = String(body.server_type ?? body.size ?? body.plan ?? '');
    const name = String(body.name ?? body.label ?? '');
    const { regions, sizes } = catalogue[kind];
    if (!(regions as readonly string[]).includes(region)) {
      return kind === 'hetzner'
        ? error(422, 'invalid_input', `location ${region} not found`)
        : error(422, 'unprocessable_entity', `Invalid region: ${region}`);
    }
    if (!(sizes as readonly string[]).includes(size)) {
      return kind === 'hetzner'
        ? error(422, 'invalid_input', `server_type ${size} not found`)
        : error(422, 'unprocessable_entity', `Invalid size or plan: ${size}`);
    }
    const rawUserData = String(body.user_data ?? '');
    const labels: Record<string, string> =
      kind === 'hetzner'
        ? ((body.labels ?? {}) as Record<string, string>)
        : Object.fromEntries(
            ((body.tags ?? []) as string[]).map((tag) => {
              const [key = '', value = ''] = tag.split(/:(.*)/s);
              return [key, value];
            }),
          );
    const machine: FakeMachine = {
      id: String(nextId++),
      name,
      region,
      size,
      userData: kind === 'vultr' ? Buffer.from(rawUserData, 'base64').toString('utf8') : rawUserData,
      status: 'creating',
      labels,
      rebootCount: 0,
      ipv4: `203.0.113.${nextId % 250}`,
    };
    machines.set(machine.id, machine);
    setTimeout(() => {
      if (machines.get(machine.id)?.status === 'creating' && (options.boots?.(machine) ?? true)) {
        machine.status = 'running';
      }
    }, options.bootMs ?? 50).unref();
    options.onCreate?.(machine);
    const view = machineView(machine);
    if (kind === 'hetzner')
      return {
        status: 201,
        body: { ...view, action: { id: nextId, command: 'create_server', status: 'running' } },
      };
    return { status: 202, body: view };
  }

  /** The list filter each API documents: Hetzner's label_selector `k==v`, DigitalOcean's tag_name and Vultr's tag `k:v`. */
  function listed(query: URLSearchParams): FakeMachine[] {
    const filter =
      kind === 'hetzner'
        ? query.get('label_selector')?.split('==')
        : (query.get(kind === 'digitalocean' ? 'tag_name' : 'tag') ?? undefined)?.split(/:(.*)/s);
    return [...machines.values()].filter(
      (m) => !filter || (filter[0] !== undefined && m.labels[filter[0]] === filter[1]),
    );
  }

  function route(
    method: string,
    path: string,
    body: Record<string, unknown>,
    query: URLSearchParams,
  ): Answer {
    const prefix = kind === 'hetzner' ? '/v1' : '/v2';
    if (!path.startsWith(prefix)) return error(404, 'not_found', 'no such route');
    const rest = path.slice(prefix.length);
    const collection = { hetzner: '/servers', digitalocean: '/droplets', vultr: '/instances' }[kind];
    const one = new RegExp(`^${collection}/([^/]+)$`).exec(rest);
    const notFound = () => error(404, 'not_found', 'The resource you were accessing could not be found.');
    if (method === 'GET' && (rest === '/locations' || rest === '/regions')) {
      const regions = catalogue[kind].regions;
      if (kind === 'hetzner')
        return {
          status: 200,
          body: { locations: regions.map((name) => ({ name, description: `Location ${name}` })) },
        };
      if (kind === 'digitalocean')
        return {
          status: 200,
          body: { regions: regions.map((slug) => ({ slug, name: slug, available: true })) },
        };
      return { status: 200, body: { regions: regions.map((id) => ({ id, city: id, country: 'XX' })) } };
    }
    if (method === 'GET' && (rest === '/server_types' || rest === '/sizes' || rest === '/plans')) {
      const sizes = catalogue[kind].sizes;
      if (kind === 'hetzner')
        return { status: 200, body: { server_types: sizes.map((name) => ({ name, description: name })) } };
      if (kind === 'digitalocean')
        return { status: 200, body: { sizes: sizes.map((slug) => ({ slug, available: true })) } };
      return {
        status: 200,
        body: { plans: sizes.map((id) => ({ id, vcpu_count: 1, ram: 1024, disk: 25 })) },
      };
    }
    if (method === 'GET' && rest === '/account')
      return { status: 200, body: { account: { status: 'active' } } };
    if (method === 'GET' && rest === collection) {
      const views = listed(query).map((m) => Object.values(machineView(m))[0]);
      return { status: 200, body: { [collection.slice(1)]: views } };
    }
    if (method === 'POST' && rest === collection) return create(body);
    if (one?.[1]) {
      const machine = machines.get(one[1]);
      if (!machine) return notFound();
      if (method === 'GET') return { status: 200, body: machineView(machine) };
      if (method === 'DELETE') {
        machines.delete(machine.id);
        options.onDelete?.(machine);
        return kind === 'hetzner'
          ? { status: 200, body: { action: { command: 'delete_server' } } }
          : { status: 204 };
      }
    }
    const reboot =
      kind === 'hetzner'
        ? /^\/servers\/([^/]+)\/actions\/(?:reboot|reset)$/.exec(rest)
        : kind === 'digitalocean'
          ? /^\/droplets\/([^/]+)\/actions$/.exec(rest)
          : /^\/instances\/([^/]+)\/reboot$/.exec(rest);
    if (method === 'POST' && reboot?.[1]) {
      const machine = machines.get(reboot[1]);
      if (!machine) return notFound();
      if (
        kind === 'digitalocean' &&
        !['reboot', 'power_cycle', 'power_off', 'power_on'].includes(String(body.type))
      ) {
        return error(422, 'unprocessable_entity', `${String(body.type)} is not a valid action type`);
      }
      machine.rebootCount += 1;
      return kind === 'vultr'
        ? { status: 204 }
        : { status: 201, body: { action: { type: 'reboot', status: 'in-progress' } } };
    }
    return error(404, 'not_found', 'no such route');
  }

  async function handle(request: IncomingMessage, response: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const body = text ? (JSON.parse(text) as Record<string, unknown>) : {};
    const [path = '/', search = ''] = (request.url ?? '/').split('?');
    const method = request.method ?? 'GET';
    requests.push({ method, path, body });
    let answer: Answer;
    const index = faults.findIndex((f) => (!f.method || f.method === method) && (!f.path || f.path === path));
    const injected = index >= 0 ? faults.splice(index, 1)[0] : undefined;
    const fault = injected?.status;
    if (request.headers.authorization !== `Bearer ${acceptedToken}`) {
      answer = error(401, 'unauthorized', 'Unable to authenticate you');
    } else if (injected?.afterDoing) {
      // the provider did the work, but its answer is lost on the way (a gateway timeout)
      route(method, path, body, new URLSearchParams(search));
      answer = error(injected.status, 'gateway_timeout', 'Gateway timeout');
    } else if (fault === 429) {
      answer = error(
        429,
        kind === 'hetzner' ? 'rate_limit_exceeded' : 'too_many_requests',
        'API rate limit exceeded',
      );
    } else if (fault !== undefined) {
      answer = error(fault, 'server_error', 'Server error, please try again later');
    } else {
      answer = route(method, path, body, new URLSearchParams(search));
    }
    response.writeHead(answer.status, {
      ...(answer.body === undefined ? {} : { 'content-type': 'application/json' }),
      ...answer.headers,
    });
    response.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }

  const { port, stop } = await listenLocally(handle);
  return {
    baseUrl: `http://127.0.0.1:${port}${kind === 'hetzner' ? '/v1' : '/v2'}`,
    machines,
    requests,
    /** The next requests answer these statuses (429, 500, 503...) instead of their real answer. */
    failNext(...statuses: number[]) {
      faults.push(...statuses.map((status) => ({ status })));
    },
    /** The next requests of this method and path answer these statuses. */
    failOn(method: string, path: string, ...statuses: number[]) {
      faults.push(...statuses.map((status) => ({ status, method, path })));
    },
    /** The next request of this method and path is carried out, but answers this status (its answer is lost). */
    loseAnswerOn(method: string, path: string, status = 504) {
      faults.push({ status, method, path, afterDoing: true });
    },
    /** From now on only this token is accepted (the account's owner revoked the old one). */
    acceptOnly(token: string) {
      acceptedToken = token;
    },
    /** Drops every injected fault not used yet. */
    clearFaults() {
      faults.length = 0;
    },
    stop,
  };
}

export type FakeProvider = Awaited<ReturnType<typeof startFakeProvider>>;
