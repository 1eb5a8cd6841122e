import {
  ChangeResourceRecordSetsCommand,
  GetChangeCommand,
  ListHostedZonesByNameCommand,
} from '@aws-sdk/client-route-53';
import { route53Client } from '../../../layers/aws/route53';

/** A TXT record an ACME DNS-01 challenge needs: its zone, its name and its values. */
export interface TxtRecord {
  zoneId: string;
  name: string;
  values: string[];
}

/**
 * The platform's Route 53 public hosted zone a domain is in, if it has one: the zone named by
 * the domain or the nearest name above it (a wildcard's `*.` left out).
 */
export async function hostedZoneOf(domain: string): Promise<string | undefined> {
  const labels = domain.replace(/^\*\./, '').split('.');
  for (let i = 0; i < labels.length - 1; i += 1) {
    const name = `${labels.slice(i).join('.')}.`;
    const { HostedZones = [] } = await route53Client().send(
      new ListHostedZonesByNameCommand({ DNSName: name, MaxItems: 1 }),
    );
    const zone = HostedZones[0];
    if (zone?.Name === name && !zone.Config?.PrivateZone) return zone.Id?.replace('/hostedzone/', '');
  }
  return undefined;
}

/** Writes a TXT record (UPSERT) and waits until Route 53 has it on all its name servers. */
export async function putTxt(record: TxtRecord, timeoutMs = 120_000): Promise<void> {
  const { ChangeInfo } = await route53Client().send(
    new ChangeResourceRecordSetsCommand({
      HostedZoneId: record.zoneId,
      ChangeBatch: {
        Comment: 'ACME DNS-01 challenge',
        Changes: [
          {
            Action: 'UPSERT',
            ResourceRecordSet: {
              Name: record.name,
              Type: 'TXT',
              TTL: 60,
              ResourceRecords: record.values.map((value) => ({ Value: `"${value}"` })),
            },
          },
        ],
      },
    }),
  );
  const deadline = Date.now() + timeoutMs;
  let status = ChangeInfo?.Status;
  while (status !== 'INSYNC') {
    if (Date.now() > deadline)
      throw new Error(`Route 53 did not apply ${record.name} within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 2_000));
    status = (await route53Client().send(new GetChangeCommand({ Id: ChangeInfo?.Id })))?.ChangeInfo?.Status;
  }
}

/** Removes a challenge's TXT record once the order is done (a record already gone is fine). */
export async function deleteTxt(record: TxtRecord): Promise<void> {
  try {
    await route53Client().send(
      new ChangeResourceRecordSetsCommand({
        HostedZoneId: record.zoneId,
        ChangeBatch: {
          Changes: [
            {
              Action: 'DELETE',
              ResourceRecordSet: {
                Name: record.name,
                Type: 'TXT',
                TTL: 60,
                ResourceRecords: record.values.map((value) => ({ Value: `"${value}"` })),
              },
            },
          ],
        },
      }),
    );
  } catch {
    // the record is left for the next order of the name to replace (UPSERT)
  }
}
