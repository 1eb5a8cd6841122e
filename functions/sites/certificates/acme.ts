import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import {
  GetParameterCommand,
  ParameterAlreadyExists,
  ParameterNotFound,
  PutParameterCommand,
} from '@aws-sdk/client-ssm';
import * as acme from 'acme-client';
import { ssmClient } from '../../../layers/aws/ssm';
import type { Platform } from '../../../layers/runtime/platform';

/** The parameter holding the platform's ACME account (key and URL) at one directory. */
export const acmeAccountKeyName = (stage: string, directoryUrl: string) =>
  `/vip/${stage}/acme/account-${createHash('sha256').update(directoryUrl).digest('hex').slice(0, 16)}`;

let trusted: string | undefined;

/** The ACME client trusts the system's CAs and, on a local runtime, pebble's own. */
function trust(caFile: string | undefined) {
  if (!caFile || trusted === caFile) return;
  acme.axios.defaults.httpsAgent = new Agent({ ca: [...rootCertificates, readFileSync(caFile, 'utf8')] });
  trusted = caFile;
}

/** The platform's account at a directory: its key and URL, kept together in one SecureString. */
interface Account {
  key: string;
  url: string;
}

/**
 * The platform's account at a directory: registered once (the first writer of the parameter
 * wins; a loser's own registration is left unused), then read. With its URL known, no request
 * to the CA is needed to use it.
 */
async function account(platform: Platform, directoryUrl: string): Promise<Account> {
  const name = acmeAccountKeyName(platform.config.STAGE, directoryUrl);
  const read = async () => {
    try {
      const { Parameter } = await ssmClient().send(
        new GetParameterCommand({ Name: name, WithDecryption: true }),
      );
      return Parameter?.Value ? (JSON.parse(Parameter.Value) as Account) : undefined;
    } catch (error) {
      if (error instanceof ParameterNotFound) return undefined;
      throw error;
    }
  };
  const existing = await read();
  if (existing) return existing;
  const key = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString();
  const client = new acme.Client({ directoryUrl, accountKey: key });
  await client.createAccount({
    termsOfServiceAgreed: true,
    ...(platform.config.ACME_CONTACT_EMAIL
      ? { contact: [`mailto:${platform.config.ACME_CONTACT_EMAIL}`] }
      : {}),
  });
  const made = { key, url: client.getAccountUrl() };
  try {
    await ssmClient().send(
      new PutParameterCommand({
        Name: name,
        Value: JSON.stringify(made),
        Type: 'SecureString',
        Overwrite: false,
        Description: `The platform's ACME account at ${directoryUrl}`,
        ...(platform.config.CREDENTIALS_KMS_KEY_ID ? { KeyId: platform.config.CREDENTIALS_KMS_KEY_ID } : {}),
      }),
    );
    return made;
  } catch (error) {
    if (!(error instanceof ParameterAlreadyExists)) throw error;
    return (await read()) ?? made;
  }
}

/** An ACME client with the platform's account at a directory. */
export async function acmeClient(platform: Platform, directoryUrl = platform.config.ACME_DIRECTORY_URL) {
  trust(platform.config.ACME_CA_FILE);
  const { key, url } = await account(platform, directoryUrl);
  return new acme.Client({
    directoryUrl,
    accountKey: key,
    accountUrl: url,
    backoffAttempts: 10,
    backoffMin: 250,
    backoffMax: 5_000,
  });
}

/**
 * A challenge placed for the CA to check: HTTP-01 (the host serves the token's file, holding
 * the key authorization) or DNS-01 (a TXT record at `_acme-challenge.<domain>` in the
 * platform's Route 53 zone holds its digest).
 */
export interface PlacedChallenge {
  type: 'http-01' | 'dns-01';
  token: string;
  keyAuthorization: string;
  /** the challenge's URL, to tell the CA it can look */
  url: string;
  /** the authorization's URL, to wait on */
  authorization: string;
  /** dns-01: the zone and name of its TXT record */
  record?: { zoneId: string; name: string };
}

/** ACME tokens are base64url; anything else from a CA is refused before it names a file. */
const TOKEN = /^[A-Za-z0-9_-]{16,128}$/;

/**
 * Places an order for a site's domains: the order's URL and each domain's challenge, DNS-01
 * where the domain's zone is in the platform's Route 53 (`zoneOf`; a wildcard needs it),
 * HTTP-01 through the site's web server otherwise.
 */
export async function orderCertificate(
  client: acme.Client,
  domains: readonly string[],
  zoneOf: (domain: string) => Promise<string | undefined>,
) {
  const order = await client.createOrder({
    identifiers: domains.map((value) => ({ type: 'dns', value })),
  });
  const authorizations = await client.getAuthorizations(order);
  const challenges: PlacedChallenge[] = [];
  for (const authorization of authorizations) {
    if (authorization.status === 'valid') continue;
    const domain = authorization.identifier.value;
    const zoneId = await zoneOf(domain);
    const type = zoneId ? 'dns-01' : 'http-01';
    if (!zoneId && authorization.wildcard) {
      throw new Error(
        `*.${domain} can only be proven by DNS-01, and ${domain} has no zone in this platform's Route 53: upload a certificate for it.`,
      );
    }
    const challenge = authorization.challenges.find((c) => c.type === type);
    if (!challenge) throw new Error(`The CA offers no ${type} challenge for ${domain}.`);
    if (!TOKEN.test(challenge.token)) throw new Error('The CA sent a challenge token that is not base64url.');
    challenges.push({
      type,
      token: challenge.token,
      keyAuthorization: await client.getChallengeKeyAuthorization(challenge),
      url: challenge.url,
      authorization: authorization.url,
      ...(zoneId ? { record: { zoneId, name: `_acme-challenge.${domain}` } } : {}),
    });
  }
  return { orderUrl: order.url, challenges };
}

/** The TXT records an order's DNS-01 challenges need, one per name (a wildcard and its base share one). */
export function txtRecords(challenges: readonly PlacedChallenge[]) {
  const byName = new Map<string, { zoneId: string; name: string; values: string[] }>();
  for (const challenge of challenges) {
    if (!challenge.record) continue;
    const record = byName.get(challenge.record.name) ?? { ...challenge.record, values: [] };
    record.values.push(challenge.keyAuthorization);
    byName.set(challenge.record.name, record);
  }
  return [...byName.values()];
}

/**
 * Once the host answers the challenges: the CA is told to look, each authorization waited on,
 * the order finalized with a new key's CSR and the certificate downloaded (leaf and chain).
 */
export async function completeOrder(
  client: acme.Client,
  placed: { orderUrl: string; challenges: readonly PlacedChallenge[] },
  domains: readonly string[],
) {
  const order = await client.getOrder({ url: placed.orderUrl } as acme.Order);
  for (const challenge of placed.challenges) {
    await client.completeChallenge({
      type: 'http-01',
      url: challenge.url,
      token: challenge.token,
      status: 'pending',
    });
  }
  for (const challenge of placed.challenges) {
    await client.waitForValidStatus({ url: challenge.authorization } as acme.Authorization);
  }
  const [keyPem, csr] = await acme.crypto.createCsr(
    { commonName: domains[0] as string, altNames: [...domains] },
    await acme.crypto.createPrivateEcdsaKey('P-256'),
  );
  const finalized = await client.finalizeOrder(order, csr);
  const chainPem = await client.getCertificate(finalized);
  return { chainPem, keyPem: keyPem.toString() };
}
