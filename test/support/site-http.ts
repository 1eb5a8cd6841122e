import { request } from 'node:http';
import { ListCommandsCommand } from '@aws-sdk/client-ssm';
import type { LocalRuntime } from '../../scripts/local/runtime';

/**
 * A GET to where a host serves its sites, for one domain: the Host header picks the site, as
 * a browser's would (fetch cannot set Host).
 */
export function getFromSite(
  servedAt: string,
  host: string,
  path = '/',
  headers: Record<string, string> = {},
) {
  const url = new URL(path, servedAt);
  return new Promise<{ status: number; body: string; headers: Record<string, unknown> }>(
    (resolve, reject) => {
      const req = request(url, { headers: { host, ...headers } }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

/**
 * Everything Run Command was sent for a runtime's hosts, with each parameter's names and values
 * and the bundles decoded (a bundle's lines end with their content, base64-encoded: decoded
 * too): what Step Functions' and SSM's histories and logs could hold.
 */
export async function sentToHosts(runtime: LocalRuntime): Promise<string> {
  const { Commands = [] } = await runtime.clients.ssm.send(new ListCommandsCommand({ MaxResults: 50 }));
  const decoded = (value: string) => Buffer.from(value, 'base64').toString('utf8');
  return Commands.flatMap((command) => Object.entries(command.Parameters ?? {}))
    .map(([name, values]) =>
      values
        .map((value) => {
          const lines = decoded(value).split('\n');
          return [name, value, ...lines, ...lines.map((line) => decoded(line.split(' ').at(-1) ?? ''))].join(
            '\n',
          );
        })
        .join('\n'),
    )
    .join('\n');
}
