import * as z from 'zod';
import { errors } from '../../../layers/errors/app-error';
import {
  type DatabaseEngine,
  databaseEngines,
  nodeVersions,
  phpVersions,
  type ServerStack,
  type WebServer,
  webServers,
} from '../../../layers/model/stack';

const distinct = <T>(values: T[]) => new Set(values).size === values.length;

export const stackSchema = z
  .strictObject({
    webServer: z.enum(webServers).default('nginx'),
    phpVersions: z
      .array(z.enum(phpVersions))
      .max(phpVersions.length)
      .refine(distinct, 'Each version once')
      .default(['8.3'])
      .meta({ description: 'PHP-FPM versions side by side; [] for none' }),
    database: z.enum(databaseEngines).nullable().default('mariadb').meta({ description: 'null for none' }),
    redis: z.boolean().default(false),
    nodeVersions: z
      .array(z.enum(nodeVersions))
      .max(nodeVersions.length)
      .refine(distinct, 'Each version once')
      .default([])
      .meta({ description: 'Node.js major versions side by side, under /opt/vip/node/<major>' }),
  })
  .meta({ id: 'ServerStack' });

/** The services a restart can name: the web server by its name, and the others by their role. */
export const restartableServices = [...webServers, 'php-fpm', 'database', 'redis'] as const;
export type RestartableService = (typeof restartableServices)[number];

/** The systemd unit of each web server and database engine, as Ubuntu's packages name them. */
export const webServerUnits: Record<WebServer, string> = {
  nginx: 'nginx',
  apache: 'apache2',
  openlitespeed: 'lshttpd',
  caddy: 'caddy',
};
const databaseUnits: Record<DatabaseEngine, string> = {
  mariadb: 'mariadb',
  mysql: 'mysql',
  postgresql: 'postgresql',
};

/**
 * The systemd units a restart of `service` touches on a server with this stack, or a reason
 * it has none (the service is not installed there).
 */
export function unitsOf(stack: ServerStack, service: RestartableService): string[] | string {
  switch (service) {
    case 'php-fpm':
      return stack.phpVersions.length > 0
        ? stack.phpVersions.map((version) => `php${version}-fpm`)
        : 'No PHP version is installed on this server';
    case 'database':
      return stack.database
        ? [databaseUnits[stack.database]]
        : 'No database engine is installed on this server';
    case 'redis':
      return stack.redis ? ['redis-server'] : 'Redis is not installed on this server';
    default:
      return service === stack.webServer
        ? [webServerUnits[service]]
        : `Not installed on this server; its web server is ${stack.webServer}`;
  }
}

/** The bootstrap document's parameters for a stack (SSM passes each as a one-string list). */
export function bootstrapParameters(stack: ServerStack, correlationId: string): Record<string, string[]> {
  return {
    webServer: [stack.webServer],
    phpVersions: [stack.phpVersions.join(' ') || 'none'],
    database: [stack.database ?? 'none'],
    redis: [stack.redis ? 'yes' : 'no'],
    nodeVersions: [stack.nodeVersions.join(' ') || 'none'],
    correlationId: [documentSafe(correlationId)],
  };
}

/** A correlation id as the host documents' allowedPattern takes it. */
export const documentSafe = (correlationId: string) =>
  correlationId.replace(/[^A-Za-z0-9._-]/g, '').slice(0, 128) || 'none';

/** A stack change: the parts given are what the server should run; the others stay. */
export const stackChangeSchema = z
  .strictObject({
    webServer: z.enum(webServers).optional().meta({ description: 'fixed after creation; may be repeated' }),
    phpVersions: z
      .array(z.enum(phpVersions))
      .max(phpVersions.length)
      .refine(distinct, 'Each version once')
      .optional()
      .meta({
        description: 'every PHP-FPM version the server should run: the current ones and those to add',
      }),
    database: z
      .enum(databaseEngines)
      .nullable()
      .optional()
      .meta({ description: 'fixed after creation; may be repeated' }),
    redis: z.boolean().optional().meta({ description: 'true adds Redis' }),
    nodeVersions: z
      .array(z.enum(nodeVersions))
      .max(nodeVersions.length)
      .refine(distinct, 'Each version once')
      .optional()
      .meta({ description: 'every Node.js major the server should run: the current ones and those to add' }),
  })
  .meta({ id: 'StackChange' });

/**
 * The stack a server grows to: software is only added, since sites may depend on what is
 * there, and the web server and the database engine stay what they were created with (they
 * serve the sites and hold the data). Refusals name the field; a change that changes nothing
 * is refused too.
 */
export function grownStack(current: ServerStack, change: z.output<typeof stackChangeSchema>): ServerStack {
  const problems: { path: string; message: string }[] = [];
  if (change.webServer !== undefined && change.webServer !== current.webServer) {
    problems.push({
      path: 'body.webServer',
      message: `Fixed after creation: this server runs ${current.webServer}`,
    });
  }
  if (change.database !== undefined && change.database !== current.database) {
    problems.push({
      path: 'body.database',
      message: `Fixed after creation: this server runs ${current.database ?? 'no database engine'}`,
    });
  }
  for (const field of ['phpVersions', 'nodeVersions'] as const) {
    const wanted: string[] | undefined = change[field];
    const dropped = wanted ? current[field].filter((version) => !wanted.includes(version)) : [];
    if (dropped.length > 0) {
      problems.push({
        path: `body.${field}`,
        message: `Versions can only be added; keep ${dropped.join(', ')} in the list`,
      });
    }
  }
  if (change.redis === false && current.redis) {
    problems.push({ path: 'body.redis', message: 'Redis can only be added' });
  }
  if (problems.length > 0) throw errors.validation(problems);
  const sorted = <T extends string>(versions: T[]) =>
    [...versions].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const grown: ServerStack = {
    ...current,
    phpVersions: sorted(change.phpVersions ?? current.phpVersions),
    nodeVersions: sorted(change.nodeVersions ?? current.nodeVersions),
    redis: change.redis ?? current.redis,
  };
  const same =
    grown.redis === current.redis &&
    grown.phpVersions.length === current.phpVersions.length &&
    grown.nodeVersions.length === current.nodeVersions.length;
  if (same)
    throw errors.validation([
      { path: 'body', message: 'Nothing to add: the server runs this stack already' },
    ]);
  return grown;
}
