import { isIPv4, isIPv6 } from 'node:net';
import * as z from 'zod';
import { databaseAccess, databaseStatuses, databaseUserStatuses } from '../../layers/model/databases';
import { operationSchema } from '../operations/spec';
import { isoTimestamp, pageQuery, prefixedId, tenantParams, tenantRouteProblems } from '../shared-schemas';

export const serverDatabasesParams = tenantParams.extend({ serverId: prefixedId('srv') });
export const databaseParams = serverDatabasesParams.extend({ databaseId: prefixedId('dbs') });
export const databaseUserParams = serverDatabasesParams.extend({ databaseUserId: prefixedId('dbu') });

/**
 * A name as every engine takes it unquoted: a letter, then letters, digits and underscores. The
 * engine's own limits and reserved names are checked against the server's engine
 * (functions/databases/names.ts).
 */
const objectName = z
  .string()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z][A-Za-z0-9_]*$/, 'A letter, then letters, digits and underscores');

/** A network in CIDR notation (`203.0.113.0/24`, `2001:db8::/48`), its host bits zero. */
export const cidr = z
  .string()
  .max(64)
  .refine((value) => {
    const [address, bits, ...rest] = value.split('/');
    if (!address || bits === undefined || rest.length > 0 || !/^\d{1,3}$/.test(bits)) return false;
    const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
    const prefix = Number(bits);
    if (!family || prefix > (family === 'ipv4' ? 32 : 128)) return false;
    // an IPv4 network's own address: 10.0.0.0/8, not 10.1.2.3/8
    return family === 'ipv6' || ipv4Network(address, prefix) === address;
  }, 'A network in CIDR notation, its host bits zero (203.0.113.0/24)');

function ipv4Network(address: string, prefix: number): string {
  const n = address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(part), 0n);
  const masked = n & (((1n << 32n) - 1n) ^ ((1n << BigInt(32 - prefix)) - 1n));
  return [24n, 16n, 8n, 0n].map((shift) => String((masked >> shift) & 255n)).join('.');
}

export const grantSchema = z.strictObject({
  databaseId: prefixedId('dbs'),
  access: z.enum(databaseAccess).meta({ description: '`read`: SELECT only; `all`: everything in it' }),
});

const grants = z
  .array(grantSchema)
  .max(100)
  .refine((list) => new Set(list.map((g) => g.databaseId)).size === list.length, 'Each database once');

const remoteAccess = z
  .array(cidr)
  .max(20)
  .refine((list) => new Set(list).size === list.length, 'Each network once')
  .meta({ description: 'Networks the user may sign in from besides the server itself' });

/** A password someone chose: printable, without control characters, 12 to 128 characters. */
export const givenPassword = z
  .string()
  .min(12)
  .max(128)
  .refine((value) => ![...value].some((c) => /\p{Cc}/u.test(c)), 'No control characters (NUL among them)');

export const createDatabaseBody = z.strictObject({
  name: objectName,
  charset: z
    .string()
    .regex(/^[a-z0-9]{1,32}$/)
    .optional()
    .meta({ description: 'MariaDB/MySQL only; default utf8mb4' }),
  collation: z
    .string()
    .regex(/^[a-z0-9_]{1,64}$/)
    .optional()
    .meta({ description: 'MariaDB/MySQL only; default utf8mb4_unicode_ci' }),
  encoding: z
    .string()
    .regex(/^[A-Za-z0-9_]{1,32}$/)
    .optional()
    .meta({ description: 'PostgreSQL only; default UTF8' }),
});

export const deleteDatabaseQuery = z.strictObject({
  confirm: z
    .string()
    .max(64)
    .meta({ description: "The database's name again: what is in it is gone for good" }),
});

export const createDatabaseUserBody = z.strictObject({
  name: objectName,
  password: givenPassword.optional().meta({ description: 'Generated (32 characters) when none is given' }),
  grants: grants.default([]),
  remoteAccess: remoteAccess.default([]),
});

export const updateDatabaseUserBody = z
  .strictObject({ grants: grants.optional(), remoteAccess: remoteAccess.optional() })
  .refine((body) => body.grants !== undefined || body.remoteAccess !== undefined, {
    message: 'Give grants, remoteAccess or both',
  });

export const rotatePasswordBody = z.strictObject({
  password: givenPassword.optional().meta({ description: 'Generated (32 characters) when none is given' }),
});

export const databaseSchema = z
  .object({
    id: z.string(),
    serverId: z.string(),
    engine: z.string(),
    name: z.string(),
    status: z.enum(databaseStatuses),
    charset: z.string().nullable(),
    collation: z.string().nullable(),
    encoding: z.string().nullable(),
    sizeBytes: z.number().int().nullable(),
    sizeCheckedAt: isoTimestamp.nullable(),
    link: z
      .object({ siteId: z.string(), userId: z.string() })
      .nullable()
      .meta({ description: 'The site whose environment carries its credentials, and the user it names' }),
    pendingOperationId: z.string().nullable(),
    lastOperationId: z.string(),
    version: z.number().int(),
    createdAt: isoTimestamp,
    updatedAt: isoTimestamp,
  })
  .meta({ id: 'Database' });

export const databaseUserSchema = z
  .object({
    id: z.string(),
    serverId: z.string(),
    engine: z.string(),
    name: z.string(),
    status: z.enum(databaseUserStatuses),
    grants: z.array(grantSchema),
    remoteAccess: z.array(z.string()),
    passwordChangedAt: isoTimestamp,
    pendingOperationId: z.string().nullable(),
    lastOperationId: z.string(),
    version: z.number().int(),
    createdAt: isoTimestamp,
    updatedAt: isoTimestamp,
  })
  .meta({ id: 'DatabaseUser' });

/** A user with the password it was given: answered once, when it is made or rotated. */
export const databaseUserWithPassword = databaseUserSchema.extend({
  password: z.string().meta({ description: 'Shown this once; the panel never shows it again' }),
  operation: operationSchema,
});

export const linkSiteBody = z.strictObject({
  siteId: prefixedId('ste').meta({ description: 'A site on the same server' }),
  userId: prefixedId('dbu').meta({ description: 'A user of the server with a grant on the database' }),
});

export const listQuery = z.strictObject({ ...pageQuery });

export const problems = { ...tenantRouteProblems('server, database or user') };
