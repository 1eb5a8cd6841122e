import * as z from 'zod';

const kinds: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
  bigint: 'a whole number',
  date: 'a date',
};

const formats: Record<string, string> = {
  email: 'an email address',
  url: 'a URL',
  uuid: 'a UUID',
  datetime: 'an ISO 8601 date and time',
  date: 'an ISO 8601 date',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  cidrv4: 'an IPv4 CIDR block',
  cidrv6: 'an IPv6 CIDR block',
  base64: 'base64',
  base64url: 'base64url',
};

const bound = (issue: { origin?: string; inclusive?: boolean }, value: unknown, side: 'least' | 'most') => {
  const n = String(value);
  switch (issue.origin) {
    case 'string':
      return `Must be at ${side} ${n} character${n === '1' ? '' : 's'} long`;
    case 'array':
    case 'set':
      return `Must have at ${side} ${n} item${n === '1' ? '' : 's'}`;
    default:
      if (issue.inclusive === false) return `Must be ${side === 'least' ? 'more' : 'less'} than ${n}`;
      return `Must be at ${side} ${n}`;
  }
};

/**
 * Field messages in the API's own words for every issue a schema did not word itself: what
 * is missing, what type or form a value must have, and its bounds. A schema's own message
 * (`.regex(re, 'Not a reset token')`) still wins.
 */
export function houseMessage(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'Required';
      return `Must be ${kinds[issue.expected] ?? issue.expected}`;
    case 'too_small':
      return bound(issue, issue.minimum, 'least');
    case 'too_big':
      return bound(issue, issue.maximum, 'most');
    case 'invalid_format':
      if (issue.format === 'regex') return 'Has the wrong format';
      if (issue.format === 'starts_with') return `Must start with ${String(issue.prefix ?? '')}`;
      if (issue.format === 'ends_with') return `Must end with ${String(issue.suffix ?? '')}`;
      return `Must be ${formats[issue.format] ?? `a valid ${issue.format}`}`;
    case 'invalid_value':
      return `Must be ${issue.values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`}`;
    case 'not_multiple_of':
      return `Must be a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return 'Unknown field';
    case 'invalid_union':
      return 'Matches none of the allowed forms';
    case 'invalid_key':
      return 'Has a key that is not allowed';
    case 'invalid_element':
      return 'Has a value that is not allowed';
    case 'custom':
      return 'Is not valid';
    default:
      return undefined;
  }
}

z.config({ customError: houseMessage });
