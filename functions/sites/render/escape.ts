/**
 * Escaping at render time: every value that reaches a config file went through the API's
 * checks already, and each renderer makes it inert once more, so a value that slipped through
 * is text, never config. Domains, paths and users are checked to a safe alphabet at the API;
 * URLs are the only free-form values the web server configs quote.
 */

/** Whether a character is a control character (NUL and line breaks among them). */
export const isControl = (c: string): boolean => {
  const code = c.charCodeAt(0);
  return code < 0x20 || code === 0x7f;
};

/** The text without control characters; no rendered value carries them. */
export const withoutControls = (value: string): string => [...value].filter((c) => !isControl(c)).join('');

/**
 * A URL as one quoted token in any of the four formats: everything a format treats as syntax
 * (whitespace, quotes, `;`, braces, `$` and `%{` variables, backslash, pipes) is
 * percent-encoded, which leaves a URL's meaning as it was, then it is double-quoted.
 */
export const quotedUrl = (value: string): string =>
  `"${withoutControls(value).replace(/[\s"'`;{}$\\<>|%]/g, (c, offset: number, whole: string) =>
    c === '%' && /^%[0-9A-Fa-f]{2}/.test(whole.slice(offset))
      ? c
      : `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  )}"`;

/** A path on the site (`/old-page`), as the API allows it: only URL path characters without syntax meaning. */
export const sitePath = (value: string): string => value.replace(/[^A-Za-z0-9._~/-]/g, '');

/** A PHP ini value: only the characters the API allows for sizes and numbers survive. */
export const iniValue = (value: string | number): string => String(value).replace(/[^0-9A-Za-z.]/g, '');

/** A systemd command line: `%` specifiers and `$` variables doubled, quotes and backslashes escaped. */
export const systemdQuoted = (value: string): string =>
  `"${[...value]
    .map((c) => (isControl(c) ? ' ' : c))
    .join('')
    .replace(/[\\"]/g, '\\$&')
    .replace(/%/g, '%%')
    .replace(/\$/g, '$$$$')}"`;
