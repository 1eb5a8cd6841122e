import { parseArgs } from 'node:util';
import { SSMClient } from '@aws-sdk/client-ssm';
import { rotateSigningKey } from '../layers/auth/secrets';
import { resourceNames } from '../layers/config/resources';

/**
 * Puts a new JWT signing key in front for a deployed stage (with the operator's AWS
 * credentials): it signs from now on, the previous keys keep verifying until tokens signed
 * with them expire, and warm functions pick the new key up within ten minutes.
 *
 *   npm run rotate-signing-key -- --stage prod [--keep 3] [--kms-key-id <arn>]
 */
const { values } = parseArgs({
  options: {
    stage: { type: 'string' },
    keep: { type: 'string', default: '3' },
    'kms-key-id': { type: 'string' },
    endpoint: { type: 'string' },
  },
});

async function main() {
  if (!values.stage) throw new Error('--stage is required');
  const ssm = new SSMClient(values.endpoint ? { endpoint: values.endpoint } : {});
  const rotated = await rotateSigningKey(ssm, resourceNames(values.stage).secretsParameter, {
    now: new Date(),
    keep: Number(values.keep),
    ...(values['kms-key-id'] ? { keyId: values['kms-key-id'] } : {}),
  });
  process.stdout.write(
    `Signing keys now (newest first): ${rotated.signingKeys.map((k) => k.kid).join(', ')}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
