import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

type CryptoKeyPair = webcrypto.CryptoKeyPair;

const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

const newKeys = () =>
  webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;

async function keyPem(keys: CryptoKeyPair): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey as webcrypto.CryptoKey));
  return `-----BEGIN PRIVATE KEY-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').trim()}\n-----END PRIVATE KEY-----\n`;
}

let serial = 1;

async function issue(options: {
  subject: string;
  issuer: { name: string; keys: CryptoKeyPair };
  keys: CryptoKeyPair;
  ca: boolean;
  domains?: string[];
  notBefore: Date;
  notAfter: Date;
}) {
  serial += 1;
  return x509.X509CertificateGenerator.create({
    serialNumber: serial.toString(16).padStart(8, '0'),
    subject: options.subject,
    issuer: options.issuer.name,
    notBefore: options.notBefore,
    notAfter: options.notAfter,
    signingAlgorithm: algorithm,
    publicKey: options.keys.publicKey,
    signingKey: options.issuer.keys.privateKey,
    extensions: [
      new x509.BasicConstraintsExtension(options.ca, undefined, true),
      ...(options.domains
        ? [
            new x509.SubjectAlternativeNameExtension(
              options.domains.map((value) => ({ type: 'dns' as const, value })),
            ),
          ]
        : []),
    ],
  });
}

const DAY = 86_400_000;

/**
 * A private CA's chain for tests of uploaded certificates: a root, an intermediate it signed,
 * and a leaf for `domains` the intermediate signed, each as PEM, with the leaf's key.
 */
export async function certificateChain(options: { domains: string[]; notBefore?: Date; notAfter?: Date }) {
  const now = Date.now();
  const rootKeys = await newKeys();
  const intermediateKeys = await newKeys();
  const leafKeys = await newKeys();
  const caValidity = { notBefore: new Date(now - 400 * DAY), notAfter: new Date(now + 3650 * DAY) };
  const root = await issue({
    subject: 'CN=Test Root',
    issuer: { name: 'CN=Test Root', keys: rootKeys },
    keys: rootKeys,
    ca: true,
    ...caValidity,
  });
  const intermediate = await issue({
    subject: 'CN=Test Intermediate',
    issuer: { name: 'CN=Test Root', keys: rootKeys },
    keys: intermediateKeys,
    ca: true,
    ...caValidity,
  });
  const leaf = await issue({
    subject: `CN=${options.domains[0]}`,
    issuer: { name: 'CN=Test Intermediate', keys: intermediateKeys },
    keys: leafKeys,
    ca: false,
    domains: options.domains,
    notBefore: options.notBefore ?? new Date(now - DAY),
    notAfter: options.notAfter ?? new Date(now + 90 * DAY),
  });
  return {
    root: root.toString('pem'),
    intermediate: intermediate.toString('pem'),
    leaf: leaf.toString('pem'),
    key: await keyPem(leafKeys),
    /** another key of the same kind, which matches nothing here */
    otherKey: await keyPem(await newKeys()),
  };
}
