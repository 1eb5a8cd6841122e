import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sealFor } from './sealed';

/** A secret sealed to a host opens with that host's key and openssl alone, as the documents' `unseal` does. */
describe('Module: sealed secrets', () => {
  it('opens with openssl and the host key, after the MAC over IV and ciphertext checks', () => {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dir = mkdtempSync(join(tmpdir(), 'vip-sealed-'));
    try {
      const keyFile = join(dir, 'host.key');
      writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const secret = 'a password with spaces, quotes \' " and $dollars';
      const [wrapped = '', iv = '', mac = '', ciphertext = ''] = sealFor(
        publicKey.export({ type: 'spki', format: 'pem' }).toString(),
        secret,
      ).split(':');
      writeFileSync(join(dir, 'wrapped'), Buffer.from(wrapped, 'base64'));
      const keys = execFileSync('openssl', [
        'pkeyutl',
        '-decrypt',
        '-inkey',
        keyFile,
        '-in',
        join(dir, 'wrapped'),
        '-pkeyopt',
        'rsa_padding_mode:oaep',
        '-pkeyopt',
        'rsa_oaep_md:sha256',
        '-pkeyopt',
        'rsa_mgf1_md:sha256',
      ]);
      const encryptionKey = keys.subarray(0, 32).toString('hex');
      const macKey = keys.subarray(32, 64).toString('hex');
      writeFileSync(
        join(dir, 'signed'),
        Buffer.concat([Buffer.from(iv, 'hex'), Buffer.from(ciphertext, 'base64')]),
      );
      const computed = execFileSync('openssl', [
        'dgst',
        '-sha256',
        '-mac',
        'HMAC',
        '-macopt',
        `hexkey:${macKey}`,
        '-r',
        join(dir, 'signed'),
      ])
        .toString()
        .split(' ')[0];
      expect(computed).toBe(mac);
      writeFileSync(join(dir, 'ciphertext'), Buffer.from(ciphertext, 'base64'));
      const opened = execFileSync('openssl', [
        'enc',
        '-d',
        '-aes-256-cbc',
        '-K',
        encryptionKey,
        '-iv',
        iv,
        '-in',
        join(dir, 'ciphertext'),
      ]);
      expect(opened.toString('utf8')).toBe(secret);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
