import { setPasswordCost } from '../auth/passwords';
import { loadSecrets, type PlatformSecrets } from '../auth/secrets';
import { makeTokenSigner, makeTokenVerifier, type Principal } from '../auth/tokens';
import { documentClient, tenantDocumentClient } from '../aws/dynamodb';
import { ssmClient } from '../aws/ssm';
import { getConfig } from '../config/config';
import { systemClock, ulidIds } from '../ids/ids';
import { makeCursorCodec } from '../store/cursor';
import { makeStore, type Store } from '../store/store';

/** Signing keys are read again this often, so a rotated key reaches every warm function. */
const KEYS_REFRESH_MS = 10 * 60_000;

async function build() {
  const config = getConfig();
  setPasswordCost(config.PASSWORD_SCRYPT_LOG2_N);
  const clock = systemClock;
  const tokenSettings = {
    issuer: config.JWT_ISSUER,
    audience: config.JWT_AUDIENCE,
    accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
  };
  const readKeys = async (secrets: PlatformSecrets) => ({
    loadedAt: Date.now(),
    signer: await makeTokenSigner(secrets, tokenSettings, clock),
    verifier: makeTokenVerifier(secrets, tokenSettings, clock),
    jwks: { keys: secrets.signingKeys.map((k) => k.publicJwk) },
  });
  const secrets = await loadSecrets(ssmClient(), config.SECRETS_PARAMETER_NAME);
  const cursors = makeCursorCodec(secrets.cursorSecret);
  const store = makeStore({ client: documentClient(), tableName: config.TABLE_NAME, clock, cursors });
  const tenantStores = new Map<string, Store>();
  let keys = await readKeys(secrets);
  const reload = async () => {
    keys = await readKeys(await loadSecrets(ssmClient(), config.SECRETS_PARAMETER_NAME));
  };
  const fresh = async () => {
    if (Date.now() - keys.loadedAt > KEYS_REFRESH_MS) await reload();
    return keys;
  };
  return {
    config,
    clock,
    ids: ulidIds(),
    store,
    /** signs the cursors of lists that are not a DynamoDB query (a provider's regions) */
    cursors,
    /**
     * The store for one tenant's own data: under the tenant data role when one is set (each
     * tenant's session cached by this instance), else the function's own.
     */
    storeFor(tenantId: string): Store {
      const roleArn = config.TENANT_DATA_ROLE_ARN;
      if (!roleArn) return store;
      let scoped = tenantStores.get(tenantId);
      if (!scoped) {
        if (tenantStores.size >= 500) tenantStores.clear();
        scoped = makeStore({
          client: tenantDocumentClient(roleArn, tenantId),
          tableName: config.TABLE_NAME,
          clock,
          cursors,
        });
        tenantStores.set(tenantId, scoped);
      }
      return scoped;
    },
    /** Signs with the newest key this function has read. */
    signer: {
      sign: async (principal: Principal, ttlSeconds?: number) =>
        (await fresh()).signer.sign(principal, ttlSeconds),
    },
    /**
     * Verifies against every published key. A key id it does not know (a key rotated in since
     * the keys were read) makes it read them again once, so rotation needs no downtime.
     */
    verifier: {
      async verify(token: string): Promise<Principal> {
        const current = await fresh();
        try {
          return await current.verifier.verify(token);
        } catch (error) {
          const unknownKey = (error as { code?: string }).code === 'ERR_JWKS_NO_MATCHING_KEY';
          // An unknown key id re-reads the keys at most once per throttle period, so forged key ids cannot flood SSM.
          const throttleMs = config.SIGNING_KEYS_RELOAD_THROTTLE_SECONDS * 1000;
          if (!unknownKey || Date.now() - keys.loadedAt < throttleMs) throw error;
          await reload();
          return keys.verifier.verify(token);
        }
      },
    },
    /** the public signing keys, newest first, as published at /.well-known/jwks.json */
    jwks: async () => (await fresh()).jwks,
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
