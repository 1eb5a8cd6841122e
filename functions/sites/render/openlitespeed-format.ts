/**
 * A strict reader of OpenLiteSpeed's configuration format, written from its documentation
 * (docs.openlitespeed.org, "Virtual Host Configuration" and "Server Configuration"), for the
 * files the panel renders; Debian does not package OpenLiteSpeed, so its own parser cannot
 * check them here. The format: one `key value` per line, blocks `name [argument] {` … `}`,
 * here-documents `key <<<END_name` … `END_name` (rewrite rules), `#` comments. This reader
 * knows each block's keys and sub-blocks and each value's kind, and refuses anything else
 * with the line it is on, as OpenLiteSpeed refuses a file it cannot read.
 */

type Kind = 'text' | 'bool' | 'int' | 'size' | 'path' | 'dir' | 'name' | 'list' | 'address' | 'rule';

interface BlockSpec {
  /** what the block's argument is: none, a name, a path, a URI or an HTTP status */
  argument?: 'name' | 'path' | 'uri' | 'status';
  keys: Record<string, Kind>;
  /** keys that may appear more than once */
  repeatable?: string[];
  blocks?: Record<string, BlockSpec>;
  /** blocks that may appear more than once (each with its own argument) */
  repeatableBlocks?: string[];
  /** keys whose value is a here-document */
  heredocs?: string[];
}

const log = (extra: Record<string, Kind>): BlockSpec => ({
  argument: 'path',
  keys: { useServer: 'bool', logLevel: 'name', rollingSize: 'size', keepDays: 'int', ...extra },
});

const realm: BlockSpec = {
  argument: 'name',
  keys: { type: 'name' },
  blocks: { userDB: { keys: { location: 'path', maxCacheSize: 'size', cacheTimeout: 'int' } } },
};

/** A virtual host's configuration (vhconf.conf). */
export const vhostFormat: BlockSpec = {
  keys: {
    docRoot: 'dir',
    vhDomain: 'name',
    vhAliases: 'list',
    adminEmails: 'list',
    enableGzip: 'bool',
    enableIpGeo: 'bool',
  },
  blocks: {
    errorlog: log({ debugLevel: 'int' }),
    accesslog: log({ compressArchive: 'bool', logHeaders: 'int', logFormat: 'text' }),
    index: { keys: { useServer: 'bool', indexFiles: 'list', autoIndex: 'bool' } },
    scripthandler: { keys: { add: 'text' }, repeatable: ['add'] },
    extprocessor: {
      argument: 'name',
      keys: {
        type: 'name',
        address: 'address',
        maxConns: 'int',
        env: 'text',
        initTimeout: 'int',
        retryTimeout: 'int',
        persistConn: 'bool',
        respBuffer: 'int',
        autoStart: 'int',
        path: 'path',
        extUser: 'name',
        extGroup: 'name',
        memSoftLimit: 'size',
        memHardLimit: 'size',
        instances: 'int',
        pcKeepAliveTimeout: 'int',
      },
      repeatable: ['env'],
    },
    phpIniOverride: {
      keys: { php_admin_value: 'text', php_admin_flag: 'text', php_value: 'text', php_flag: 'text' },
      repeatable: ['php_admin_value', 'php_admin_flag', 'php_value', 'php_flag'],
    },
    context: {
      argument: 'uri',
      keys: {
        location: 'dir',
        allowBrowse: 'bool',
        realm: 'name',
        type: 'name',
        handler: 'name',
        addDefaultCharset: 'name',
      },
    },
    realm,
    errorpage: { argument: 'status', keys: { url: 'path' } },
    rewrite: {
      keys: { enable: 'bool', autoLoadHtaccess: 'bool', logLevel: 'int', rules: 'rule' },
      heredocs: ['rules'],
    },
  },
  repeatableBlocks: ['extprocessor', 'context', 'realm', 'errorpage'],
};

/** A site's registration (an included part of httpd_config.conf). */
export const registrationFormat: BlockSpec = {
  keys: {},
  blocks: {
    virtualhost: {
      argument: 'name',
      keys: {
        vhRoot: 'dir',
        configFile: 'path',
        allowSymbolLink: 'bool',
        enableScript: 'bool',
        restrained: 'bool',
        setUIDMode: 'int',
      },
    },
  },
};

/** A listener map (an included part of the HTTP listener's block). */
export const mapFormat: BlockSpec = { keys: { map: 'text' }, repeatable: ['map'] };

const NAME = /^[A-Za-z0-9_.*-]+$/;
const PATH = /^\/[A-Za-z0-9._/@-]*$/;

function checkValue(kind: Kind, key: string, value: string): string | undefined {
  switch (kind) {
    case 'bool':
      return /^[01]$/.test(value) ? undefined : `${key} takes 0 or 1`;
    case 'int':
      return /^[0-9]+$/.test(value) ? undefined : `${key} takes a number`;
    case 'size':
      return /^[0-9]+[KMG]?$/.test(value) ? undefined : `${key} takes a size`;
    case 'path':
      return PATH.test(value) ? undefined : `${key} takes an absolute path`;
    case 'dir':
      return PATH.test(value) && value.endsWith('/') ? undefined : `${key} takes a folder ending in /`;
    case 'name':
      return NAME.test(value) ? undefined : `${key} takes a name`;
    case 'list':
      return value.split(/,\s*/).every((item) => NAME.test(item))
        ? undefined
        : `${key} takes a comma-separated list`;
    case 'address':
      return /^(uds:\/\/[A-Za-z0-9._/@-]+|[A-Za-z0-9.-]+:[0-9]+|\[[0-9a-f:.]+\]:[0-9]+)$/.test(value)
        ? undefined
        : `${key} takes uds://path or host:port`;
    case 'text':
      return /^[^{}\n]+$/.test(value) ? undefined : `${key} takes one line without braces`;
    default:
      return undefined;
  }
}

export class OlsFormatError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'OlsFormatError';
  }
}

export interface OlsNode {
  name: string;
  argument?: string;
  values: Record<string, string[]>;
  blocks: OlsNode[];
}

/** Reads a file of this format, or throws an OlsFormatError naming the line. */
export function parseOls(text: string, format: BlockSpec): OlsNode {
  const lines = text.split('\n');
  const root: OlsNode = { name: '', values: {}, blocks: [] };
  const stack: { node: OlsNode; spec: BlockSpec; opened: number }[] = [
    { node: root, spec: format, opened: 0 },
  ];
  for (let i = 0; i < lines.length; i += 1) {
    const number = i + 1;
    const raw = lines[i] as string;
    if (raw.includes(String.fromCharCode(0)) || raw.includes('\r'))
      throw new OlsFormatError(number, 'control characters');
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const top = stack[stack.length - 1] as (typeof stack)[number];
    if (line === '}') {
      if (stack.length === 1) throw new OlsFormatError(number, 'a } closes no block');
      stack.pop();
      continue;
    }
    const opening = /^([A-Za-z_]+)(?:\s+(\S+))?\s*\{$/.exec(line);
    if (opening) {
      const [, name = '', argument] = opening;
      const spec = top.spec.blocks?.[name];
      if (!spec) throw new OlsFormatError(number, `no block ${name} here`);
      if (!spec.argument && argument !== undefined)
        throw new OlsFormatError(number, `${name} takes no argument`);
      if (spec.argument && argument === undefined)
        throw new OlsFormatError(number, `${name} needs its ${spec.argument}`);
      if (argument !== undefined) {
        const ok =
          spec.argument === 'name'
            ? NAME.test(argument)
            : spec.argument === 'status'
              ? /^[1-5][0-9]{2}$/.test(argument)
              : PATH.test(argument);
        if (!ok) throw new OlsFormatError(number, `${name}'s ${spec.argument} is not one: ${argument}`);
      }
      const repeated = top.node.blocks.some(
        (b) => b.name === name && (b.argument === argument || !spec.argument),
      );
      if (repeated && !top.spec.repeatableBlocks?.includes(name)) {
        throw new OlsFormatError(number, `${name} twice`);
      }
      if (repeated && top.node.blocks.some((b) => b.name === name && b.argument === argument)) {
        throw new OlsFormatError(number, `${name} ${argument ?? ''} twice`);
      }
      const node: OlsNode = { name, ...(argument !== undefined ? { argument } : {}), values: {}, blocks: [] };
      top.node.blocks.push(node);
      stack.push({ node, spec, opened: number });
      continue;
    }
    if (line.endsWith('{')) throw new OlsFormatError(number, `not a block's opening: ${line}`);
    const pair = /^([A-Za-z_.]+)\s+(.+)$/.exec(line);
    if (!pair) throw new OlsFormatError(number, `not a key and value: ${line}`);
    const [, key = '', value = ''] = pair;
    const kind = top.spec.keys[key];
    if (!kind) throw new OlsFormatError(number, `no key ${key} in ${top.node.name || 'the file'}`);
    if (top.node.values[key] && !top.spec.repeatable?.includes(key))
      throw new OlsFormatError(number, `${key} twice`);
    let stored = value;
    if (top.spec.heredocs?.includes(key)) {
      const heredoc = /^<<<(END_[A-Za-z0-9_]+)$/.exec(value);
      if (!heredoc) throw new OlsFormatError(number, `${key} takes a here-document (<<<END_name)`);
      const end = lines.findIndex((l, j) => j > i && l.trim() === heredoc[1]);
      if (end < 0) throw new OlsFormatError(number, `${heredoc[1]} never ends`);
      const body = lines.slice(i + 1, end);
      body.forEach((rule, j) => {
        const text = rule.trim();
        if (text === '' || text.startsWith('#')) return;
        if (!/^(RewriteRule|RewriteCond)\s+\S+\s+\S+(\s+\[[A-Z0-9=,]+\])?$/.test(text)) {
          throw new OlsFormatError(i + 2 + j, `not a rewrite rule: ${text}`);
        }
      });
      stored = body.join('\n');
      i = end;
    } else {
      const problem = checkValue(kind, key, value);
      if (problem) throw new OlsFormatError(number, problem);
    }
    top.node.values[key] = [...(top.node.values[key] ?? []), stored];
  }
  if (stack.length > 1) {
    const open = stack[stack.length - 1] as (typeof stack)[number];
    throw new OlsFormatError(open.opened, `${open.node.name} is never closed`);
  }
  return root;
}

/** The domains a vhost answers to, after reading it. */
export const vhostDomains = (node: OlsNode): string[] => [
  ...(node.values.vhDomain ?? []),
  ...(node.values.vhAliases ?? []).flatMap((list) => list.split(/,\s*/)),
];
