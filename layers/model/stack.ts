/** What a server runs, chosen at creation; the bootstrap document installs exactly this. */
export const webServers = ['nginx', 'apache', 'openlitespeed', 'caddy'] as const;
export const phpVersions = ['7.4', '8.0', '8.1', '8.2', '8.3', '8.4'] as const;
export const databaseEngines = ['mariadb', 'mysql', 'postgresql'] as const;
export const nodeVersions = ['18', '20', '22', '24'] as const;

export type WebServer = (typeof webServers)[number];
export type DatabaseEngine = (typeof databaseEngines)[number];

/** A server's stack, as its record keeps it (functions/servers/stack validates and grows it). */
export interface ServerStack {
  webServer: WebServer;
  phpVersions: (typeof phpVersions)[number][];
  database: DatabaseEngine | null;
  redis: boolean;
  nodeVersions: (typeof nodeVersions)[number][];
}
