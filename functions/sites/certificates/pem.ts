import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { errors, type FieldError } from '../../../layers/errors/app-error';
import type { SiteCertificate } from '../../../layers/model/sites';

/** A certificate with its chain and key, checked: what a site's record and its host get. */
export type CheckedCertificate = Omit<SiteCertificate, 'source' | 'installedAt' | 'directoryUrl'> & {
  /** the private key, as PKCS#8 PEM */
  keyPem: string;
};

const CERTIFICATE_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** The DNS names a certificate covers: its subjectAltName's DNS entries (the CN only without any). */
export function namesOf(certificate: X509Certificate): string[] {
  const san = certificate.subjectAltName;
  if (san) {
    return san
      .split(/,\s*/)
      .filter((entry) => entry.startsWith('DNS:'))
      .map((entry) => entry.slice(4).toLowerCase());
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(certificate.subject)?.[1];
  return cn ? [cn.toLowerCase()] : [];
}

/** Whether a certificate name covers a domain: exactly, or a `*.` name one label up. */
export function covers(name: string, domain: string): boolean {
  if (name === domain) return true;
  if (!name.startsWith('*.')) return false;
  if (domain.startsWith('*.')) return false;
  const dot = domain.indexOf('.');
  return dot > 0 && domain.slice(dot + 1) === name.slice(2);
}

/** Parses every certificate in a PEM text; a block that is not one names the field. */
function certificatesIn(pem: string, field: string): X509Certificate[] {
  const blocks = pem.match(CERTIFICATE_BLOCK) ?? [];
  if (blocks.length === 0) {
    throw errors.validation([
      { path: field, message: 'Expected one or more PEM certificates (BEGIN CERTIFICATE).' },
    ]);
  }
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw errors.validation([
        { path: field, message: `Certificate ${index + 1} is not a valid X.509 certificate.` },
      ]);
    }
  });
}

function privateKeyOf(pem: string): KeyObject {
  if (/ENCRYPTED/.test(pem)) {
    throw errors.validation([
      { path: 'body.privateKey', message: 'The private key is encrypted; upload it without a passphrase.' },
    ]);
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: pem, format: 'pem' });
  } catch {
    throw errors.validation([
      { path: 'body.privateKey', message: 'Expected a PEM private key (PKCS#8, PKCS#1 or SEC1).' },
    ]);
  }
  const details = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'rsa' && (details?.modulusLength ?? 0) < 2048) {
    throw errors.validation([
      { path: 'body.privateKey', message: 'An RSA key must have at least 2048 bits.' },
    ]);
  }
  if (key.asymmetricKeyType === 'ec' && !['prime256v1', 'secp384r1'].includes(details?.namedCurve ?? '')) {
    throw errors.validation([{ path: 'body.privateKey', message: 'An EC key must be on P-256 or P-384.' }]);
  }
  if (key.asymmetricKeyType !== 'rsa' && key.asymmetricKeyType !== 'ec') {
    throw errors.validation([{ path: 'body.privateKey', message: 'The key must be RSA or ECDSA.' }]);
  }
  return key;
}

/**
 * Checks an uploaded certificate for a site: the key is the certificate's, the chain is put in
 * order (leaf first, each certificate issued and signed by the next) and complete up to its
 * last intermediate, it is valid now, and it covers every domain the site answers to.
 */
export function checkCertificate(
  upload: { certificate: string; chain?: string | undefined; privateKey: string },
  domains: readonly string[],
  now: Date,
): CheckedCertificate {
  const key = privateKeyOf(upload.privateKey);
  const given = [
    ...certificatesIn(upload.certificate, 'body.certificate'),
    ...(upload.chain ? certificatesIn(upload.chain, 'body.chain') : []),
  ];
  const leaf = given.find((certificate) => certificate.checkPrivateKey(key));
  if (!leaf) {
    throw errors.validation([
      { path: 'body.privateKey', message: 'The private key does not match the certificate.' },
    ]);
  }
  // the chain in order: each next certificate is the one that issued and signed the last
  const ordered = [leaf];
  const rest = given.filter((certificate) => certificate !== leaf);
  for (;;) {
    const last = ordered[ordered.length - 1] as X509Certificate;
    if (last.checkIssued(last) && last.verify(last.publicKey)) break; // a root: the chain ends
    const issuer = rest.find((candidate) => last.checkIssued(candidate) && last.verify(candidate.publicKey));
    if (!issuer) break;
    ordered.push(issuer);
    rest.splice(rest.indexOf(issuer), 1);
  }
  const problems: FieldError[] = [];
  if (rest.length > 0) {
    problems.push({
      path: 'body.chain',
      message: `${rest.length} certificate(s) are not part of the leaf's chain: ${rest.map((c) => c.subject.replace(/\n/g, ', ')).join('; ')}.`,
    });
  }
  for (const certificate of ordered) {
    const from = new Date(certificate.validFrom);
    const to = new Date(certificate.validTo);
    const which =
      certificate === leaf ? 'The certificate' : `The chain's ${certificate.subject.replace(/\n/g, ', ')}`;
    if (to <= now)
      problems.push({
        path: certificate === leaf ? 'body.certificate' : 'body.chain',
        message: `${which} expired on ${to.toISOString()}.`,
      });
    if (from > now)
      problems.push({
        path: certificate === leaf ? 'body.certificate' : 'body.chain',
        message: `${which} is not valid before ${from.toISOString()}.`,
      });
  }
  const names = namesOf(leaf);
  const uncovered = domains.filter((domain) => !names.some((name) => covers(name, domain)));
  if (uncovered.length > 0) {
    problems.push({
      path: 'body.certificate',
      message: `The certificate does not cover ${uncovered.join(', ')} (it covers ${names.join(', ') || 'no DNS name'}).`,
    });
  }
  if (problems.length > 0) throw errors.validation(problems);
  // a self-signed root is not sent: clients have their own
  const sent = ordered.filter((c, i) => i === 0 || !(c.checkIssued(c) && c.verify(c.publicKey)));
  return {
    chainPem: `${sent.map((c) => c.toString().trim()).join('\n')}\n`,
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    domains: names,
    issuer: leaf.issuer.replace(/\n/g, ', '),
    serialNumber: leaf.serialNumber,
    fingerprint256: leaf.fingerprint256,
    notBefore: new Date(leaf.validFrom).toISOString(),
    notAfter: new Date(leaf.validTo).toISOString(),
  };
}
