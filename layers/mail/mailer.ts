import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { sesClient } from '../aws/clients';
import { getConfig } from '../config/config';

export interface Mail {
  to: string;
  subject: string;
  text: string;
}

/** Sends a plain-text email through SES (locally, the SES stand-in writes it to the outbox file). */
export async function sendMail(mail: Mail): Promise<string> {
  const { MessageId } = await sesClient().send(
    new SendEmailCommand({
      FromEmailAddress: getConfig().MAIL_FROM,
      Destination: { ToAddresses: [mail.to] },
      Content: {
        Simple: {
          Subject: { Data: mail.subject, Charset: 'UTF-8' },
          Body: { Text: { Data: mail.text, Charset: 'UTF-8' } },
        },
      },
    }),
  );
  return MessageId ?? '';
}
