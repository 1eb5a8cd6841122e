import { randomUUID } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * The SES v2 stand-in: `POST /v2/email/outbound-emails` (SendEmail) appends the message to an
 * outbox file, one JSON object a line, and answers with a MessageId as SES does.
 */
export function makeLocalSes(outboxPath: string) {
  mkdirSync(dirname(outboxPath), { recursive: true });
  return {
    outboxPath,
    handle(method: string, path: string, body: string): { status: number; body: unknown } | undefined {
      if (method !== 'POST' || path !== '/v2/email/outbound-emails') return undefined;
      const request = JSON.parse(body || '{}') as {
        FromEmailAddress?: string;
        Destination?: { ToAddresses?: string[] };
        Content?: { Simple?: { Subject?: { Data?: string }; Body?: { Text?: { Data?: string } } } };
      };
      const to = request.Destination?.ToAddresses ?? [];
      if (to.length === 0) return { status: 400, body: { message: 'Destination is required' } };
      const messageId = randomUUID();
      appendFileSync(
        outboxPath,
        `${JSON.stringify({
          messageId,
          at: new Date().toISOString(),
          from: request.FromEmailAddress ?? '',
          to,
          subject: request.Content?.Simple?.Subject?.Data ?? '',
          text: request.Content?.Simple?.Body?.Text?.Data ?? '',
        })}\n`,
      );
      return { status: 200, body: { MessageId: messageId } };
    },
  };
}
