import { request } from 'node:http';
import { connect } from 'node:tls';
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

/**
 * A GET over TLS to where a host serves HTTPS, for a domain (SNI, as a browser sends it),
 * trusting only `ca`: the status, the response head and body, and the certificate it was served.
 */
export function getOverTls(httpsServedAt: string, servername: string, ca: string, path = '/') {
  const url = new URL(httpsServedAt);
  return new Promise<{
    status: number;
    head: string;
    body: string;
    peer: { subject: string; issuer: string; validTo: string };
  }>((resolve, reject) => {
    const socket = connect({ host: url.hostname, port: Number(url.port), servername, ca }, () => {
      const peer = socket.getPeerCertificate();
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${servername}\r\nConnection: close\r\n\r\n`);
      let raw = '';
      socket.setEncoding('utf8');
      socket.on('data', (chunk: string) => {
        raw += chunk;
      });
      socket.on('end', () => {
        const [head = '', ...rest] = raw.split('\r\n\r\n');
        resolve({
          status: Number(/^HTTP\/1\.1 (\d+)/.exec(head)?.[1] ?? 0),
          head,
          body: rest.join('\r\n\r\n'),
          peer: {
            subject: String(peer.subject?.CN ?? ''),
            issuer: String(peer.issuer?.CN ?? ''),
            validTo: peer.valid_to,
          },
        });
      });
    });
    socket.on('error', reject);
  });
}
