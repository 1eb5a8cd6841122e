import { domainToASCII } from 'node:url';
import { Cron } from 'croner';
import * as z from 'zod';
import { phpProcessManagers } from '../../layers/model/sites';
import { nodeVersions, phpVersions } from '../../layers/model/stack';
import { isControl } from './render/escape';

/*
 * The fields a site's requests are made of, each validated as the host will use it: domains,
 * URLs, PHP settings, snippets, cron jobs and daemons.
 */

/** Whether the text has control characters (NUL and line breaks among them) or whitespace. */
export const hasControlOrSpace = (value: string) => [...value].some((c) => isControl(c) || /\s/.test(c));
export const hasControl = (value: string) => [...value].some(isControl);

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * A domain as the platform keeps it: lower case, without a trailing dot, an IDN as punycode
 * (`bücher.example` → `xn--bcher-kva.example`), at least two labels, a wildcard only as the
 * whole first label (`*.example.com`). Undefined when it is not one.
 */
export function normalizeDomain(input: string): string | undefined {
  const trimmed = input.trim().replace(/\.$/, '');
  const wildcard = trimmed.startsWith('*.');
  const name = wildcard ? trimmed.slice(2) : trimmed;
  // letters and digits of any script, dots and hyphens; anything else is never a host name
  if (name.length === 0 || /[^\p{L}\p{M}\p{N}.-]/u.test(name)) return undefined;
  const ascii = domainToASCII(name);
  if (!ascii || ascii.length > (wildcard ? 251 : 253)) return undefined;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((label) => LABEL.test(label))) return undefined;
  if (/^[0-9]+$/.test(labels[labels.length - 1] as string)) return undefined;
  return wildcard ? `*.${ascii}` : ascii;
}

export const domainName = z
  .string()
  .max(1000)
  .refine(
    (value) => normalizeDomain(value) !== undefined,
    'Not a domain name: letters, digits and hyphens in dot-separated labels (an IDN is fine), `*.` only as the first label',
  )
  .transform((value) => normalizeDomain(value) as string)
  .meta({ description: 'Stored lower case, an IDN as punycode', example: 'shop.example.com' });

/** A URL's host as DNS or IP knows it: letters, digits, dots and hyphens, or a bracketed IPv6 address. */
export const plainHost = (hostname: string) =>
  /^[a-z0-9.-]+$/.test(hostname) || /^\[[0-9a-f:.]+\]$/.test(hostname);

/** A size as PHP's ini takes it (`256M`). */
const phpSize = z.string().regex(/^[1-9][0-9]{0,4}[KMG]$/, 'A size such as 256M (digits, then K, M or G)');

export const phpSettings = z.strictObject({
  version: z.enum(phpVersions).meta({ description: "One of the server's installed PHP versions" }),
  memoryLimit: phpSize.default('256M'),
  uploadMaxFilesize: phpSize.default('64M'),
  maxExecutionTime: z.number().int().min(0).max(3600).default(60),
  opcache: z.boolean().default(true),
  pool: z
    .strictObject({
      pm: z.enum(phpProcessManagers).default('ondemand'),
      maxChildren: z.number().int().min(1).max(200).default(5),
    })
    .prefault({}),
});

/** A path on the site, matched exactly: URL path characters with no meaning in any config format. */
const sitePathSchema = z
  .string()
  .max(512)
  .regex(/^\/[A-Za-z0-9._~/-]*$/, 'A path starting with /, of letters, digits and . _ ~ / -');

/** Where a redirect goes: a path on the site, or an http(s) URL, kept as the URL parser writes it. */
export const redirectTarget = z
  .string()
  .max(2048)
  .refine((value) => {
    if (hasControlOrSpace(value)) return false;
    if (value.startsWith('/') && !value.startsWith('//')) return true;
    try {
      const url = new URL(value);
      return (
        (url.protocol === 'http:' || url.protocol === 'https:') &&
        url.username === '' &&
        url.password === '' &&
        plainHost(url.hostname)
      );
    } catch {
      return false;
    }
  }, 'A path starting with / or an http(s) URL without credentials or spaces')
  .transform((value) =>
    value.startsWith('/') ? new URL(value, 'http://site.invalid').pathname : new URL(value).href,
  );

export const upstreamUrl = z
  .string()
  .max(2048)
  .refine((value) => {
    if (hasControlOrSpace(value)) return false;
    try {
      const url = new URL(value);
      return (
        (url.protocol === 'http:' || url.protocol === 'https:') &&
        url.username === '' &&
        url.search === '' &&
        url.hash === '' &&
        plainHost(url.hostname) &&
        /^[A-Za-z0-9._~/-]*$/.test(url.pathname)
      );
    } catch {
      return false;
    }
  }, 'An http(s) URL: scheme, host, optional port and path; no credentials, query or fragment')
  .transform((value) => new URL(value).href.replace(/\/$/, ''));

export const redirect = z.strictObject({
  from: sitePathSchema,
  to: redirectTarget,
  status: z.union([z.literal(301), z.literal(302)]).default(301),
});

/**
 * The customer's own lines inside the site's block. The host's validator checks them; here
 * they must keep to the block: braces balanced outside quotes and comments, no NUL.
 */
export const snippetSchema = z
  .string()
  .max(8000)
  .refine((value) => !value.includes(String.fromCharCode(0)), 'No NUL characters')
  .refine(bracesBalanced, "Braces must balance: a snippet stays inside the site's block");

export function bracesBalanced(text: string): boolean {
  let depth = 0;
  let quote: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
      else if (c === '\n') return false;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i++;
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '{') depth++;
    else if (c === '}' && --depth < 0) return false;
  }
  return depth === 0 && quote === undefined;
}

export const basicAuth = z.strictObject({
  username: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, 'Letters, digits and . _ - (at most 64)'),
  password: z
    .string()
    .min(8)
    .max(128)
    .refine((v) => !hasControl(v), 'No line breaks, NUL or other control characters'),
});

export const node = z.strictObject({
  version: z.enum(nodeVersions).meta({ description: "One of the server's installed Node.js majors" }),
  startCommand: z
    .string()
    .min(1)
    .max(500)
    .refine((v) => !hasControl(v), 'One line, no control characters')
    .default('npm start'),
  port: z.number().int().min(1024).max(65535).default(3000),
});

const CRON_NICKNAMES = [
  '@reboot',
  '@yearly',
  '@annually',
  '@monthly',
  '@weekly',
  '@daily',
  '@midnight',
  '@hourly',
];

/** A cron schedule as Debian's cron reads it: five fields (numbers, names, `*`, `/`, `,`, `-`) or a nickname. */
export function isCronExpression(value: string): boolean {
  if (CRON_NICKNAMES.includes(value)) return true;
  const fields = value.trim().split(/\s+/);
  if (fields.length !== 5 || !fields.every((f) => /^([0-9*/,-]|[A-Za-z]{3})+$/.test(f))) return false;
  try {
    new Cron(fields.join(' '), { paused: true });
    return true;
  } catch {
    return false;
  }
}

/** A command as one line: what a shell runs, no control characters. */
const commandLine = z
  .string()
  .min(1)
  .max(1000)
  .refine((v) => !hasControl(v), 'One line, no control characters');

const cronJob = z.strictObject({
  expression: z
    .string()
    .max(100)
    .refine(isCronExpression, 'Five cron fields (minute hour day month weekday) or a nickname such as @daily')
    .transform((v) => v.trim().split(/\s+/).join(' ')),
  command: commandLine,
});

export const daemon = z.strictObject({
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,30}$/, 'Lower case letters, digits and hyphens, starting with a letter'),
  command: commandLine,
});

export const cronJobs = z
  .array(cronJob)
  .max(50)
  .meta({ description: "The site user's crontab; replaces the jobs" });
export const daemons = z
  .array(daemon)
  .max(10)
  .refine((list) => new Set(list.map((d) => d.name)).size === list.length, 'Each daemon name once')
  .meta({ description: 'Processes kept running (queue workers and the like); replaces the daemons' });
