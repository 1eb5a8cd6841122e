import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';
import { saslprep } from '@mongodb-js/saslprep';
import {
  type DatabaseEngineName,
  type DatabaseGrant,
  type DatabaseItem,
  type DatabaseUserSpec,
  mysqlFamily,
} from '../../layers/model/databases';

/**
 * The SQL the panel sends to a server's database engine, rendered here rather than on the host:
 * every identifier quoted and every value a literal by the engine's own rules, so no name or
 * password can end a statement. The host pipes a script to `mariadb`/`psql` on stdin as the
 * engine's administrator; it never goes through a shell line. Passwords reach MariaDB and
 * PostgreSQL only as the hashes they store (mysql_native_password, SCRAM-SHA-256), never in
 * plain text.
 */

const noNul = (value: string) => {
  if (value.includes('\0')) throw new Error('NUL cannot be quoted');
  return value;
};

/** An identifier as the engine reads it whatever it holds: `back`ticks or "double" quotes, doubled inside. */
export function quoteIdent(engine: DatabaseEngineName, name: string): string {
  noNul(name);
  return mysqlFamily(engine) ? `\`${name.replaceAll('`', '``')}\`` : `"${name.replaceAll('"', '""')}"`;
}

/**
 * A string literal. MySQL-family scripts start with backslash escapes on (`sessionPrelude`), so
 * backslashes are doubled; PostgreSQL's run with standard_conforming_strings, where only quotes are.
 */
export function literal(engine: DatabaseEngineName, value: string): string {
  noNul(value);
  return mysqlFamily(engine)
    ? `'${value.replaceAll('\\', '\\\\').replaceAll("'", "''")}'`
    : `'${value.replaceAll("'", "''")}'`;
}

/** A database name in a MySQL-family GRANT, where `_` and `%` are wildcards unless escaped. */
const grantDatabase = (name: string) =>
  quoteIdent(
    'mariadb',
    name.replace(/[\\_%]/g, (c) => `\\${c}`),
  );

/** What every script starts with, so the quoting rules above are the ones in force. */
function sessionPrelude(engine: DatabaseEngineName): string {
  return mysqlFamily(engine)
    ? "SET SESSION sql_mode = REPLACE(@@SESSION.sql_mode, 'NO_BACKSLASH_ESCAPES', '');\n"
    : '\\set ON_ERROR_STOP on\n\\set VERBOSITY terse\nSET standard_conforming_strings = on;\n';
}

/** MariaDB's stored form of a password (mysql_native_password): `*` and SHA1(SHA1(password)) in hex. */
export function mysqlNativeHash(password: string): string {
  const once = createHash('sha1').update(password, 'utf8').digest();
  return `*${createHash('sha1').update(once).digest('hex').toUpperCase()}`;
}

/**
 * PostgreSQL's stored form of a password (RFC 7677 SCRAM-SHA-256, as `pg_authid` keeps it):
 * the password SASLprep-normalised as the server and libpq do (as it is, where SASLprep refuses it).
 */
export function scramVerifier(password: string, salt = randomBytes(16), iterations = 4096): string {
  let normalised: string;
  try {
    normalised = saslprep(password);
  } catch {
    normalised = password;
  }
  const salted = pbkdf2Sync(Buffer.from(normalised, 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return `SCRAM-SHA-256$${iterations}:${salt.toString('base64')}$${storedKey.toString('base64')}:${serverKey.toString('base64')}`;
}

/** The roles a PostgreSQL database is owned and read through: its users are made members of one. */
export const pgRoles = (databaseId: string) => {
  const ulid = databaseId.slice(databaseId.indexOf('_') + 1).toLowerCase();
  return { owner: `vip_${ulid}_owner`, read: `vip_${ulid}_read` };
};

/** Fails a PostgreSQL script (its ON_ERROR_STOP) with the reason; the text is the panel's own. */
const FOREIGN_DATABASE =
  "DO $$ BEGIN RAISE EXCEPTION 'A database of this name exists on the server already, made outside the panel'; END $$;\n";

/** The comment a database made by the panel carries, so a name made outside it is never taken over. */
const marker = (database: Pick<DatabaseItem, 'id'>) => `vip:${database.id}`;

type DatabaseRef = Pick<DatabaseItem, 'id' | 'engine' | 'name' | 'charset' | 'collation' | 'encoding'>;

/**
 * Creates a database, converging when it exists already as this one (a re-run); one of the
 * same name made outside the panel fails the script and is left alone.
 */
export function createDatabaseSql(database: DatabaseRef): string {
  const { engine, name } = database;
  const id = quoteIdent(engine, name);
  if (mysqlFamily(engine)) {
    const charset = database.charset ?? 'utf8mb4';
    const collation = database.collation ?? 'utf8mb4_unicode_ci';
    const options = `CHARACTER SET ${literal(engine, charset)} COLLATE ${literal(engine, collation)}`;
    if (engine === 'mysql')
      return `${sessionPrelude(engine)}CREATE DATABASE IF NOT EXISTS ${id} ${options};\n`;
    return [
      sessionPrelude(engine),
      `CREATE DATABASE IF NOT EXISTS ${id} ${options} COMMENT ${literal(engine, marker(database))};\n`,
      'DELIMITER //\n',
      `BEGIN NOT ATOMIC\n  IF NOT EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = ${literal(engine, name)} AND schema_comment = ${literal(engine, marker(database))}) THEN\n`,
      "    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'A database of this name exists on the server already, made outside the panel';\n",
      '  END IF;\nEND //\n',
      'DELIMITER ;\n',
      `ALTER DATABASE ${id} ${options};\n`,
    ].join('');
  }
  const roles = pgRoles(database.id);
  const l = (value: string) => literal(engine, value);
  return [
    sessionPrelude(engine),
    // one of the name without the panel's comment was made outside it: it stays as it is
    `SELECT EXISTS (SELECT FROM pg_database d WHERE d.datname = ${l(name)} AND COALESCE(shobj_description(d.oid, 'pg_database'), '') <> ${l(marker(database))}) AS vip_foreign \\gset\n`,
    `\\if :vip_foreign\n${FOREIGN_DATABASE}\\endif\n`,
    `SELECT format('CREATE DATABASE %I ENCODING %L TEMPLATE template0', ${l(name)}, ${l(database.encoding ?? 'UTF8')}) WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${l(name)})\\gexec\n`,
    'BEGIN;\n',
    `COMMENT ON DATABASE ${id} IS ${l(marker(database))};\n`,
    ...[roles.owner, roles.read].map(
      (role) =>
        `SELECT format('CREATE ROLE %I NOLOGIN', ${l(role)}) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${l(role)})\\gexec\n`,
    ),
    `ALTER DATABASE ${id} OWNER TO ${quoteIdent(engine, roles.owner)};\n`,
    `REVOKE ALL ON DATABASE ${id} FROM PUBLIC;\n`,
    `GRANT CONNECT, TEMPORARY ON DATABASE ${id} TO ${quoteIdent(engine, roles.read)};\n`,
    'COMMIT;\n',
    `\\connect ${id}\nSET standard_conforming_strings = on;\n`,
    'BEGIN;\n',
    `ALTER SCHEMA public OWNER TO ${quoteIdent(engine, roles.owner)};\n`,
    `REVOKE ALL ON SCHEMA public FROM PUBLIC;\n`,
    `GRANT USAGE ON SCHEMA public TO ${quoteIdent(engine, roles.read)};\n`,
    `GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${quoteIdent(engine, roles.read)};\n`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(engine, roles.owner)} IN SCHEMA public GRANT SELECT ON TABLES TO ${quoteIdent(engine, roles.read)};\n`,
    `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(engine, roles.owner)} IN SCHEMA public GRANT SELECT ON SEQUENCES TO ${quoteIdent(engine, roles.read)};\n`,
    'COMMIT;\n',
  ].join('');
}

/**
 * Drops a database the panel made (one of that name without its comment is left alone), with
 * what granted access to it: MySQL-family grants on it, PostgreSQL's roles for it.
 */
export function dropDatabaseSql(database: DatabaseRef): string {
  const { engine, name } = database;
  const l = (value: string) => literal(engine, value);
  if (mysqlFamily(engine)) {
    const drop =
      engine === 'mysql'
        ? `DROP DATABASE IF EXISTS ${quoteIdent(engine, name)};\n`
        : [
            'DELIMITER //\n',
            `BEGIN NOT ATOMIC\n  IF EXISTS (SELECT 1 FROM information_schema.schemata WHERE schema_name = ${l(name)} AND schema_comment = ${l(marker(database))}) THEN\n`,
            `    DROP DATABASE ${quoteIdent(engine, name)};\n  END IF;\nEND //\n`,
            'DELIMITER ;\n',
          ].join('');
    return [
      sessionPrelude(engine),
      drop,
      // grants name the database as a pattern, `_` and `%` escaped: they would open a later one of the name
      `DELETE FROM mysql.db WHERE Db = ${l(name.replace(/[\\_%]/g, (c) => `\\${c}`))};\n`,
      'FLUSH PRIVILEGES;\n',
    ].join('');
  }
  const roles = pgRoles(database.id);
  return [
    sessionPrelude(engine),
    `SELECT format('DROP DATABASE %I WITH (FORCE)', d.datname) FROM pg_database d WHERE d.datname = ${l(name)} AND shobj_description(d.oid, 'pg_database') = ${l(marker(database))}\\gexec\n`,
    ...[roles.read, roles.owner].map((role) => `DROP ROLE IF EXISTS ${quoteIdent(engine, role)};\n`),
  ].join('');
}

/** The MySQL-family host of a remote network: `a.b.c.d/netmask` for MariaDB, the CIDR as it is for MySQL. */
export function mysqlHostOf(engine: 'mariadb' | 'mysql', cidr: string): string {
  if (engine === 'mysql') return cidr;
  const [address, bits] = cidr.split('/') as [string, string];
  const n = Number(bits);
  const mask = n === 0 ? 0 : (0xffffffff << (32 - n)) >>> 0;
  return `${address}/${[24, 16, 8, 0].map((shift) => (mask >>> shift) & 255).join('.')}`;
}

/** The accounts of a MySQL-family user: the server itself (socket and loopback), then each remote network. */
export const mysqlHosts = (engine: 'mariadb' | 'mysql', spec: Pick<DatabaseUserSpec, 'remoteAccess'>) => [
  'localhost',
  '127.0.0.1',
  ...spec.remoteAccess.map((cidr) => mysqlHostOf(engine, cidr)),
];

export interface UserChange {
  engine: DatabaseEngineName;
  name: string;
  password: string;
  spec: DatabaseUserSpec;
  /** the spec the host has now; none for a user being made */
  previous?: DatabaseUserSpec;
  /** the names of the server's databases, by id */
  databases: ReadonlyMap<string, Pick<DatabaseItem, 'id' | 'name'>>;
}

const sameGrants = (a: DatabaseGrant[], b: DatabaseGrant[]) =>
  JSON.stringify([...a].sort((x, y) => x.databaseId.localeCompare(y.databaseId))) ===
  JSON.stringify([...b].sort((x, y) => x.databaseId.localeCompare(y.databaseId)));

/**
 * Makes or changes a user: its password, its grants and its accounts. Re-running it converges.
 * PostgreSQL's runs in one transaction; MariaDB's statements each take effect at once, its
 * grants replaced only when they changed (revoked and granted again within the one session).
 */
export function putUserSql(change: UserChange): string {
  const { engine, name, spec, previous } = change;
  const l = (value: string) => literal(engine, value);
  const grantsChanged = !previous || !sameGrants(previous.grants, spec.grants);
  const databaseOf = (grant: DatabaseGrant) => {
    const database = change.databases.get(grant.databaseId);
    if (!database) throw new Error(`No database ${grant.databaseId} on the server`);
    return database;
  };
  if (mysqlFamily(engine)) {
    const identified =
      engine === 'mariadb'
        ? `IDENTIFIED BY PASSWORD ${l(mysqlNativeHash(change.password))}`
        : `IDENTIFIED WITH caching_sha2_password BY ${l(change.password)}`;
    const hosts = mysqlHosts(engine, spec);
    const before = previous ? mysqlHosts(engine, previous) : [];
    const lines = [sessionPrelude(engine)];
    for (const host of hosts) {
      const account = `${l(name)}@${l(host)}`;
      lines.push(
        `CREATE USER IF NOT EXISTS ${account} ${identified};\n`,
        `ALTER USER ${account} ${identified};\n`,
      );
      if (grantsChanged || !before.includes(host)) {
        lines.push(`REVOKE ALL PRIVILEGES, GRANT OPTION FROM ${account};\n`);
        for (const grant of spec.grants) {
          const privileges = grant.access === 'all' ? 'ALL PRIVILEGES' : 'SELECT, SHOW VIEW';
          lines.push(`GRANT ${privileges} ON ${grantDatabase(databaseOf(grant).name)}.* TO ${account};\n`);
        }
      }
    }
    for (const host of before.filter((h) => !hosts.includes(h))) {
      lines.push(`DROP USER IF EXISTS ${l(name)}@${l(host)};\n`);
    }
    return lines.join('');
  }
  const role = quoteIdent(engine, name);
  const lines = [
    sessionPrelude(engine),
    'BEGIN;\n',
    `SELECT format('CREATE ROLE %I LOGIN', ${l(name)}) WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${l(name)})\\gexec\n`,
    `ALTER ROLE ${role} WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION PASSWORD ${l(scramVerifier(change.password))};\n`,
  ];
  if (grantsChanged) {
    const wanted = new Map(spec.grants.map((g) => [g.databaseId, g.access]));
    const known = new Set([...(previous?.grants ?? []).map((g) => g.databaseId), ...wanted.keys()]);
    for (const databaseId of known) {
      const database = change.databases.get(databaseId);
      // a database dropped meanwhile took its roles (and the memberships in them) with it
      if (!database) continue;
      const roles = pgRoles(database.id);
      const access = wanted.get(databaseId);
      const db = quoteIdent(engine, database.name);
      lines.push(
        `REVOKE ${quoteIdent(engine, roles.owner)}, ${quoteIdent(engine, roles.read)} FROM ${role};\n`,
        `ALTER ROLE ${role} IN DATABASE ${db} RESET role;\n`,
      );
      if (access === 'all') {
        // what it makes there belongs to the database's owner role, so readers see it too
        lines.push(
          `GRANT ${quoteIdent(engine, roles.owner)}, ${quoteIdent(engine, roles.read)} TO ${role};\n`,
          `ALTER ROLE ${role} IN DATABASE ${db} SET role = ${l(roles.owner)};\n`,
        );
      } else if (access === 'read') {
        lines.push(`GRANT ${quoteIdent(engine, roles.read)} TO ${role};\n`);
      }
    }
  }
  lines.push('COMMIT;\n');
  return lines.join('');
}

/** Takes a user away with every account of it (its PostgreSQL role: what it owns goes to the database's owner first). */
export function dropUserSql(
  engine: DatabaseEngineName,
  name: string,
  spec: DatabaseUserSpec,
  databases: ReadonlyMap<string, Pick<DatabaseItem, 'id' | 'name'>>,
): string {
  const l = (value: string) => literal(engine, value);
  if (mysqlFamily(engine)) {
    return [
      sessionPrelude(engine),
      ...mysqlHosts(engine, spec).map((host) => `DROP USER IF EXISTS ${l(name)}@${l(host)};\n`),
    ].join('');
  }
  const role = quoteIdent(engine, name);
  const lines = [sessionPrelude(engine)];
  // objects it owns in each database it had: handed to that database's owner, then the role goes
  lines.push(`SELECT EXISTS (SELECT FROM pg_roles WHERE rolname = ${l(name)}) AS vip_user_exists \\gset\n`);
  lines.push('\\if :vip_user_exists\n');
  for (const grant of spec.grants) {
    const database = databases.get(grant.databaseId);
    if (!database) continue;
    // only where the database is still there (one dropped took what the user owned in it)
    lines.push(
      `SELECT EXISTS (SELECT FROM pg_database WHERE datname = ${l(database.name)}) AS vip_database_exists \\gset\n`,
      '\\if :vip_database_exists\n',
      `\\connect ${quoteIdent(engine, database.name)}\nSET standard_conforming_strings = on;\n`,
      `REASSIGN OWNED BY ${role} TO ${quoteIdent(engine, pgRoles(database.id).owner)};\n`,
      `DROP OWNED BY ${role};\n`,
      '\\connect postgres\n',
      '\\endif\n',
    );
  }
  lines.push(`DROP ROLE IF EXISTS ${role};\n`, '\\endif\n');
  return lines.join('');
}

/**
 * What the document's last lines say: the engine's version, where its clients reach it on the
 * server (its socket, or for PostgreSQL the socket's folder, and its port), and bytes by database.
 */
export function parseSizes(stdout: string): {
  up: boolean;
  version?: string;
  socket?: string;
  port?: number;
  sizes: Map<string, number>;
} {
  const version = /^engine: up (.+)$/m.exec(stdout)?.[1]?.trim();
  const socket = /^engine-socket: (\S+)$/m.exec(stdout)?.[1];
  const port = /^engine-port: (\d+)$/m.exec(stdout)?.[1];
  const sizes = new Map<string, number>();
  for (const match of stdout.matchAll(/^size: (\S+) (\d+)$/gm)) {
    sizes.set(match[1] as string, Number(match[2]));
  }
  return {
    up: version !== undefined,
    ...(version ? { version } : {}),
    ...(socket ? { socket } : {}),
    ...(port ? { port: Number(port) } : {}),
    sizes,
  };
}

/**
 * A PostgreSQL user's lines of pg_hba.conf: from each remote network, to the databases it has,
 * with its password (SCRAM). None when it has no remote access or no database.
 */
export function hbaLines(
  name: string,
  spec: DatabaseUserSpec,
  databases: ReadonlyMap<string, Pick<DatabaseItem, 'name'>>,
): string {
  const names = spec.grants.flatMap((g) => {
    const database = databases.get(g.databaseId);
    return database ? [database.name] : [];
  });
  if (names.length === 0) return '';
  return spec.remoteAccess
    .map((cidr) => `host ${names.map((n) => `"${n}"`).join(',')} "${name}" ${cidr} scram-sha-256\n`)
    .join('');
}
