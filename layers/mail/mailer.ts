import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import { sesClient } from '../aws/ses';
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

/** Where the links in an email point: the web app's pages, when there is one, and the API. */
export interface PublicUrls {
  appUrl?: string | undefined;
  apiUrl?: string | undefined;
}

export const publicUrls = (config: { APP_URL?: string | undefined; API_URL?: string | undefined }) => ({
  appUrl: config.APP_URL,
  apiUrl: config.API_URL,
});

/**
 * The lines of an email that tell how to act on a token: the web app's page when the
 * platform has one (APP_URL), and always the API call that does the same.
 */
export function actionLines(
  urls: PublicUrls,
  action: { page: string; token: string; apiPath: string; apiBody: Record<string, string> },
): string[] {
  const base = (url: string) => url.replace(/\/$/, '');
  return [
    ...(urls.appUrl ? [`${base(urls.appUrl)}/${action.page}?token=${action.token}`, ''] : []),
    `${urls.appUrl ? 'Or through the API' : 'Through the API'}: POST ${urls.apiUrl ? base(urls.apiUrl) : ''}${action.apiPath}`,
    `with the JSON body ${JSON.stringify({ token: action.token, ...action.apiBody })}`,
  ];
}
