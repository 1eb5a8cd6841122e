import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { fromXml, tags, toXml, xmlDocument } from './xml';

/**
 * Route 53 as a local stand-in of its REST/XML API, for what the platform calls when it proves
 * a domain by DNS-01: ListHostedZonesByName, ChangeResourceRecordSets (TXT records) and
 * GetChange, in the request and response shapes Route 53 documents (API version 2013-04-01).
 * Its TXT records are handed to a DNS server that answers them for real (pebble-challtestsrv),
 * so the ACME server resolves the challenge as it would on the internet.
 */
export interface FakeRoute53 {
  endpoint: string;
  /** a hosted zone the operator made (`example.test`), answering its id */
  addZone(name: string): string;
  /** the TXT values a name has now */
  txt(name: string): string[];
  stop(): Promise<void>;
}

const NS = 'https://route53.amazonaws.com/doc/2013-04-01/';

const fqdn = (name: string) => (name.endsWith('.') ? name : `${name}.`).toLowerCase();

export async function startFakeRoute53(options: {
  /** publishes a name's TXT values to the DNS the ACME server resolves with (none: cleared) */
  publish: (name: string, values: string[]) => Promise<void>;
}): Promise<FakeRoute53> {
  const zones = new Map<string, string>(); // id -> name (fqdn)
  const records = new Map<string, string[]>(); // fqdn -> TXT values (quoted, as Route 53 keeps them)

  const error = (response: ServerResponse, status: number, code: string, message: string) => {
    response.writeHead(status, { 'content-type': 'text/xml' });
    response.end(
      xmlDocument(
        `<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${toXml(message)}</Message></Error><RequestId>${randomBytes(8).toString('hex')}</RequestId></ErrorResponse>`,
      ),
    );
  };
  const ok = (response: ServerResponse, body: string) => {
    response.writeHead(200, { 'content-type': 'text/xml' });
    response.end(xmlDocument(body));
  };
  const changeInfo = (id: string) =>
    `<ChangeInfo><Id>/change/${id}</Id><Status>INSYNC</Status><SubmittedAt>${new Date().toISOString()}</SubmittedAt></ChangeInfo>`;

  async function handle(request: IncomingMessage, response: ServerResponse, body: string) {
    const url = new URL(request.url ?? '/', 'http://route53.local');
    const path = url.pathname.replace(/^\/2013-04-01/, '');
    if (request.method === 'GET' && path === '/hostedzonesbyname') {
      const wanted = fqdn(url.searchParams.get('dnsname') ?? '');
      const sorted = [...zones.entries()].sort((a, b) => a[1].localeCompare(b[1]));
      const from = sorted.findIndex(([, name]) => name >= wanted);
      const max = Number(url.searchParams.get('maxitems') ?? 100);
      const page = (from < 0 ? [] : sorted.slice(from)).slice(0, max);
      return ok(
        response,
        `<ListHostedZonesByNameResponse xmlns="${NS}"><HostedZones>${page
          .map(
            ([id, name]) =>
              `<HostedZone><Id>/hostedzone/${id}</Id><Name>${name}</Name><CallerReference>local</CallerReference><Config><PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>2</ResourceRecordSetCount></HostedZone>`,
          )
          .join(
            '',
          )}</HostedZones><DNSName>${wanted}</DNSName><IsTruncated>false</IsTruncated><MaxItems>${max}</MaxItems></ListHostedZonesByNameResponse>`,
      );
    }
    const rrset = /^\/hostedzone\/([A-Z0-9]+)\/rrset\/?$/.exec(path);
    if (request.method === 'POST' && rrset) {
      const zone = zones.get(rrset[1] ?? '');
      if (!zone) return error(response, 404, 'NoSuchHostedZone', `No hosted zone found with ID: ${rrset[1]}`);
      const changes = tags(body, 'Change').map((change) => ({
        action: tags(change, 'Action')[0] ?? '',
        name: fqdn(fromXml(tags(change, 'Name')[0] ?? '')),
        type: tags(change, 'Type')[0] ?? '',
        values: tags(change, 'Value').map(fromXml),
      }));
      for (const change of changes) {
        if (change.type !== 'TXT')
          return error(response, 400, 'InvalidInput', 'This stand-in keeps TXT records only');
        if (!change.name.endsWith(`.${zone}`) && change.name !== zone) {
          return error(
            response,
            400,
            'InvalidChangeBatch',
            `RRSet with DNS name ${change.name} is not permitted in zone ${zone}`,
          );
        }
        if (change.action === 'DELETE' && !records.has(change.name)) {
          return error(
            response,
            400,
            'InvalidChangeBatch',
            `Tried to delete resource record set [name='${change.name}', type='TXT'] but it was not found`,
          );
        }
      }
      for (const change of changes) {
        if (change.action === 'DELETE') records.delete(change.name);
        else records.set(change.name, change.values);
        await options.publish(
          change.name,
          (records.get(change.name) ?? []).map((v) => v.replace(/^"|"$/g, '')),
        );
      }
      return ok(
        response,
        `<ChangeResourceRecordSetsResponse xmlns="${NS}">${changeInfo(randomBytes(6).toString('hex').toUpperCase())}</ChangeResourceRecordSetsResponse>`,
      );
    }
    const change = /^\/change\/([A-Z0-9]+)$/.exec(path);
    if (request.method === 'GET' && change) {
      return ok(
        response,
        `<GetChangeResponse xmlns="${NS}">${changeInfo(change[1] ?? '')}</GetChangeResponse>`,
      );
    }
    return error(response, 400, 'InvalidInput', `Unsupported request ${request.method} ${url.pathname}`);
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      handle(request, response, Buffer.concat(chunks).toString('utf8')).catch((cause: unknown) =>
        error(response, 500, 'InternalError', String(cause)),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    addZone(name) {
      const id = `Z${randomBytes(8).toString('hex').toUpperCase()}`;
      zones.set(id, fqdn(name));
      return id;
    },
    txt: (name) => records.get(fqdn(name)) ?? [],
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
