import { createHmac, timingSafeEqual } from 'node:crypto';
import { errors } from '../errors/app-error';

type Key = Record<string, unknown>;

interface CursorPayload {
  /** tenant the list belongs to */
  t: string;
  /** the list it continues (for example `servers`), so a cursor cannot jump lists */
  s: string;
  /** DynamoDB's LastEvaluatedKey */
  k: Key;
}

/**
 * Opaque pagination cursors: the LastEvaluatedKey, the tenant and the list, signed with
 * HMAC-SHA256. A tampered cursor, or one replayed by another tenant or on another list,
 * is rejected with 400 and reveals nothing.
 */
export function makeCursorCodec(secret: string) {
  const sign = (body: string) => createHmac('sha256', secret).update(body).digest('base64url');
  return {
    encode(tenantId: string, scope: string, lastKey: Key): string {
      const body = Buffer.from(
        JSON.stringify({ t: tenantId, s: scope, k: lastKey } satisfies CursorPayload),
      ).toString('base64url');
      return `${body}.${sign(body)}`;
    },
    decode(cursor: string, tenantId: string, scope: string): Key {
      const [body, mac, extra] = cursor.split('.');
      if (!body || !mac || extra !== undefined) throw errors.invalidCursor();
      const expected = Buffer.from(sign(body));
      const given = Buffer.from(mac);
      if (expected.length !== given.length || !timingSafeEqual(expected, given)) throw errors.invalidCursor();
      let payload: CursorPayload;
      try {
        payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as CursorPayload;
      } catch {
        throw errors.invalidCursor();
      }
      if (payload.t !== tenantId || payload.s !== scope || typeof payload.k !== 'object')
        throw errors.invalidCursor();
      return payload.k;
    },
  };
}

export type CursorCodec = ReturnType<typeof makeCursorCodec>;
