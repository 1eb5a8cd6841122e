import type { WebServer } from '../../layers/model/stack';

/**
 * Directives a site's snippet may not hold whatever the web server: those that open another
 * context than the site's own (another server, the http or stream block) or reach files and
 * settings outside it (an include, a module, the worker's user).
 */
const NGINX_REFUSED = new Set([
  'http',
  'events',
  'stream',
  'mail',
  'server',
  'upstream',
  'map',
  'geo',
  'split_clients',
  'include',
  'load_module',
  'user',
  'pid',
  'env',
  'daemon',
  'master_process',
  'worker_processes',
  'worker_rlimit_nofile',
]);

type Token = { kind: 'word'; text: string; atStart: boolean } | { kind: '{' | '}' | ';' };

/**
 * nginx's own reading of a configuration (ngx_conf_read_token): whitespace, `;`, `{` and `}`
 * separate tokens; `#` starts a comment only where a token starts (`a#` is a word); a quote
 * starts a quoted token only there too, and `\` escapes the next character; `${name}` is part of
 * its word. Undefined for text nginx itself would refuse (an unclosed quote or variable).
 */
export function nginxTokens(text: string): Token[] | undefined {
  const tokens: Token[] = [];
  let i = 0;
  let expectDirective = true;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i += 1;
      continue;
    }
    if (c === '#') {
      while (i < text.length && text[i] !== '\n') i += 1;
      continue;
    }
    if (c === ';' || c === '{' || c === '}') {
      tokens.push({ kind: c });
      expectDirective = true;
      i += 1;
      continue;
    }
    let word = '';
    if (c === '"' || c === "'") {
      i += 1;
      while (i < text.length && text[i] !== c) {
        if (text[i] === '\\') i += 1;
        word += text[i] ?? '';
        i += 1;
      }
      if (i >= text.length) return undefined;
      i += 1;
    } else {
      while (i < text.length) {
        const d = text[i] as string;
        if (/\s/.test(d) || d === ';' || d === '{' || d === '}') break;
        if (d === '\\') {
          word += text[i + 1] ?? '';
          i += 2;
          continue;
        }
        if (d === '$' && text[i + 1] === '{') {
          const end = text.indexOf('}', i);
          if (end < 0) return undefined;
          word += text.slice(i, end + 1);
          i = end + 1;
          continue;
        }
        word += d;
        i += 1;
      }
    }
    tokens.push({ kind: 'word', text: word, atStart: expectDirective });
    expectDirective = false;
  }
  return tokens;
}

/** Why nginx would read a snippet as reaching outside the site's server block, if it would. */
function nginxRefusal(text: string): string | undefined {
  const tokens = nginxTokens(text);
  if (!tokens) return 'An unclosed quote or ${variable}';
  let depth = 0;
  for (const token of tokens) {
    if (token.kind === '{') depth += 1;
    else if (token.kind === '}') {
      depth -= 1;
      if (depth < 0) return "A closing brace that leaves the site's server block";
    } else if (token.kind === 'word' && token.atStart && NGINX_REFUSED.has(token.text.toLowerCase())) {
      return `The ${token.text} directive is not for a site's server block`;
    }
  }
  return depth === 0 ? undefined : 'A block left open';
}

/** Apache reads a section's end `</Name>` on its own line; a snippet may close only what it opened. */
function apacheRefusal(text: string): string | undefined {
  const open: string[] = [];
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  for (const raw of lines) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const closing = /^<\/\s*([A-Za-z0-9_]+)\s*>/.exec(line);
    if (closing) {
      const name = (closing[1] as string).toLowerCase();
      if (open.pop() !== name) return "A section end that leaves the site's virtual host";
      continue;
    }
    const opening = /^<\s*([A-Za-z0-9_]+)[\s>]/.exec(line);
    if (opening) {
      const name = (opening[1] as string).toLowerCase();
      if (name === 'virtualhost') return 'A virtual host inside the site';
      open.push(name);
      continue;
    }
    const directive = /^([A-Za-z0-9_]+)/.exec(line)?.[1]?.toLowerCase();
    if (directive === 'include' || directive === 'includeoptional' || directive === 'loadmodule') {
      return `The ${directive} directive is not for a site's virtual host`;
    }
  }
  return open.length === 0 ? undefined : 'A section left open';
}

/** Caddy: blocks in braces, `#` a comment where a token starts, quoted and backquoted tokens. */
function caddyRefusal(text: string): string | undefined {
  let depth = 0;
  let i = 0;
  let atTokenStart = true;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      atTokenStart = true;
      i += 1;
      continue;
    }
    if (c === '#' && atTokenStart) {
      while (i < text.length && text[i] !== '\n') i += 1;
      continue;
    }
    if ((c === '"' || c === '`') && atTokenStart) {
      i += 1;
      while (i < text.length && text[i] !== c) i += c === '"' && text[i] === '\\' ? 2 : 1;
      if (i >= text.length) return 'An unclosed quote';
      i += 1;
      atTokenStart = false;
      continue;
    }
    if (c === '{') depth += 1;
    if (c === '}' && --depth < 0) return "A closing brace that leaves the site's block";
    atTokenStart = false;
    i += 1;
  }
  return depth === 0 ? undefined : 'A block left open';
}

/**
 * Why a snippet would reach outside the site's own block on its web server, read as that
 * server reads its configuration; undefined when it stays inside. The server's own validator
 * still checks the whole configuration on the host before it is reloaded.
 */
export function snippetRefusal(webServer: WebServer, text: string): string | undefined {
  if (webServer === 'nginx') return nginxRefusal(text);
  if (webServer === 'apache') return apacheRefusal(text);
  if (webServer === 'caddy') return caddyRefusal(text);
  return undefined;
}
