import * as z from 'zod';

/** What a server runs, chosen at creation; the bootstrap document installs exactly this. */
export const webServers = ['nginx', 'apache', 'openlitespeed', 'caddy'] as const;
export const phpVersions = ['7.4', '8.0', '8.1', '8.2', '8.3', '8.4'] as const;
export const databaseEngines = ['mariadb', 'mysql', 'postgresql'] as const;
export const nodeVersions = ['18', '20', '22', '24'] as const;

export type WebServer = (typeof webServers)[number];
export type DatabaseEngine = (typeof databaseEngines)[number];

export interface ServerStack {
  webServer: WebServer;
  phpVersions: (typeof phpVersions)[number][];
  database: DatabaseEngine | null;
  redis: boolean;
  nodeVersions: (typeof nodeVersions)[number][];
}

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
