import { loadSecrets } from '../auth/secrets';
import { makeTokenSigner, makeTokenVerifier } from '../auth/tokens';
import { documentClient, ssmClient } from '../aws/clients';
import { getConfig } from '../config/config';
import { systemClock, ulidIds } from '../ids/ids';
import { makeCursorCodec } from '../store/cursor';
import { makeStore } from '../store/store';

async function build() {
  const config = getConfig();
  const clock = systemClock;
  const secrets = await loadSecrets(ssmClient(), config.SECRETS_PARAMETER_NAME);
  const store = makeStore({
    client: documentClient(),
    tableName: config.TABLE_NAME,
    clock,
    cursors: makeCursorCodec(secrets.cursorSecret),
  });
  const tokenSettings = {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  };
  return {
    config,
    clock,
    ids: ulidIds(),
    store,
    signer: await makeTokenSigner(secrets, tokenSettings, clock),
    verifier: makeTokenVerifier(secrets, tokenSettings, clock),
    /** the public signing keys, newest first, as published at /.well-known/jwks.json */
    jwks: { keys: secrets.signingKeys.map((k) => k.publicJwk) },
  };
}

/** Everything a handler needs, built once per cold start (secrets are read from Parameter Store then). */
export type Platform = Awaited<ReturnType<typeof build>>;

let platform: Promise<Platform> | undefined;

export function getPlatform(): Promise<Platform> {
  platform ??= build().catch((error) => {
    platform = undefined;
    throw error;
  });
  return platform;
}
