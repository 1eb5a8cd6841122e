import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../layers/errors/app-error';
import { certificateChain } from '../../../test/support/certificates';
import { checkCertificate, covers } from './pem';

/** Uploaded certificates are checked as a browser would trust them, before any host gets them. */
type Chain = Awaited<ReturnType<typeof certificateChain>>;
let chain: Chain;
const now = new Date();
const domains = ['shop.example.com', 'www.shop.example.com'];

/** The subjects of the certificates a chain sends, in its order. */
const subjects = (chainPem: string) =>
  (chainPem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map(
    (pem) => new X509Certificate(pem).subject,
  );

/** The refusal's field problems, or a failure if it was not refused. */
function refusal(run: () => unknown): { path: string; message: string }[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).status).toBe(400);
    return (error as AppError).errors ?? [];
  }
  throw new Error('it was accepted');
}

beforeAll(async () => {
  chain = await certificateChain({ domains });
});

describe('Uploaded certificates', () => {
  it('takes a leaf and its chain, leaf first, the root left out, and reads what the leaf says', () => {
    const checked = checkCertificate(
      { certificate: chain.leaf, chain: `${chain.intermediate}${chain.root}`, privateKey: chain.key },
      domains,
      now,
    );
    expect(subjects(checked.chainPem)).toEqual(['CN=shop.example.com', 'CN=Test Intermediate']);
    expect(checked.domains).toEqual(domains);
    expect(checked.issuer).toBe('CN=Test Intermediate');
    expect(new Date(checked.notAfter).getTime()).toBeGreaterThan(now.getTime());
    expect(checked.keyPem).toContain('BEGIN PRIVATE KEY');
  });

  it('puts a chain given out of order in order', () => {
    const checked = checkCertificate(
      { certificate: `${chain.intermediate}${chain.leaf}`, privateKey: chain.key },
      domains,
      now,
    );
    expect(subjects(checked.chainPem)).toEqual(['CN=shop.example.com', 'CN=Test Intermediate']);
  });

  it('refuses a key that is not the certificate’s', () => {
    const problems = refusal(() =>
      checkCertificate({ certificate: chain.leaf, privateKey: chain.otherKey }, domains, now),
    );
    expect(problems).toEqual([
      { path: 'body.privateKey', message: 'The private key does not match the certificate.' },
    ]);
  });

  it('refuses an expired certificate, and one not valid yet', async () => {
    const day = 86_400_000;
    const expired = await certificateChain({
      domains,
      notBefore: new Date(now.getTime() - 100 * day),
      notAfter: new Date(now.getTime() - day),
    });
    const old = refusal(() =>
      checkCertificate({ certificate: expired.leaf, privateKey: expired.key }, domains, now),
    );
    expect(old[0]?.path).toBe('body.certificate');
    expect(old[0]?.message).toMatch(/^The certificate expired on \d{4}-/);
    const future = await certificateChain({
      domains,
      notBefore: new Date(now.getTime() + day),
      notAfter: new Date(now.getTime() + 90 * day),
    });
    const early = refusal(() =>
      checkCertificate({ certificate: future.leaf, privateKey: future.key }, domains, now),
    );
    expect(early[0]?.message).toMatch(/is not valid before/);
  });

  it('refuses a certificate that does not cover every domain of the site, naming them', () => {
    const problems = refusal(() =>
      checkCertificate(
        { certificate: chain.leaf, privateKey: chain.key },
        [...domains, 'shop.example.org', 'a.b.shop.example.com'],
        now,
      ),
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]?.message).toContain('does not cover shop.example.org, a.b.shop.example.com');
  });

  it('refuses a chain with a certificate that is not part of it', async () => {
    const stranger = await certificateChain({ domains: ['other.example.com'] });
    const problems = refusal(() =>
      checkCertificate(
        {
          certificate: chain.leaf,
          chain: `${chain.intermediate}${stranger.intermediate}`,
          privateKey: chain.key,
        },
        domains,
        now,
      ),
    );
    expect(problems[0]?.path).toBe('body.chain');
    expect(problems[0]?.message).toContain('not part of the leaf');
  });

  it('refuses what is not PEM, and encrypted keys', () => {
    expect(
      refusal(() => checkCertificate({ certificate: 'hello', privateKey: chain.key }, domains, now))[0]?.path,
    ).toBe('body.certificate');
    const encrypted = '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n';
    expect(
      refusal(() => checkCertificate({ certificate: chain.leaf, privateKey: encrypted }, domains, now))[0]
        ?.message,
    ).toContain('encrypted');
    expect(
      refusal(() => checkCertificate({ certificate: chain.leaf, privateKey: 'not a key' }, domains, now))[0]
        ?.path,
    ).toBe('body.privateKey');
  });

  it('matches wildcards one label deep only', () => {
    expect(covers('*.example.com', 'shop.example.com')).toBe(true);
    expect(covers('*.example.com', 'a.shop.example.com')).toBe(false);
    expect(covers('*.example.com', 'example.com')).toBe(false);
    expect(covers('*.example.com', '*.example.com')).toBe(true);
    expect(covers('shop.example.com', 'shop.example.com')).toBe(true);
  });

  it('answers anything uploaded with the checked certificate or a 400 naming a field, never another error', () => {
    const pem = (label: string) =>
      fc
        .base64String({ minLength: 0, maxLength: 400 })
        .map((body) => `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`);
    const text = fc.oneof(
      fc.string(),
      pem('CERTIFICATE'),
      pem('PRIVATE KEY'),
      fc.constant(chain.leaf),
      fc.constant(chain.key),
    );
    fc.assert(
      fc.property(text, fc.option(text, { nil: undefined }), text, (certificate, given, privateKey) => {
        try {
          checkCertificate({ certificate, chain: given, privateKey }, domains, now);
        } catch (error) {
          expect(error).toBeInstanceOf(AppError);
          expect((error as AppError).status).toBe(400);
          for (const problem of (error as AppError).errors ?? [])
            expect(['body.certificate', 'body.chain', 'body.privateKey']).toContain(problem.path);
        }
      }),
      { numRuns: 300 },
    );
  });
});
