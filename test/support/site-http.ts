import { request } from 'node:http';

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
