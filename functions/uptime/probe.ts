import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { rootCertificates, type TLSSocket } from 'node:tls';
import type { ProbeResult } from '../../layers/model/uptime';
import { guardedAgentFor, reachOf } from '../../layers/net/public-address';

/** The most of a body read for a keyword. */
const MAX_BODY_BYTES = 1024 * 1024;

export interface ProbeOptions {
  url: string;
  method: 'GET' | 'HEAD';
  timeoutSeconds: number;
  expectedStatus: { min: number; max: number };
  keyword?: string | undefined;
  tlsExpiryDays: number;
  /** a local runtime's probes reach loopback only; otherwise, public addresses only */
  local: boolean;
  /** CAs trusted besides the system's (PEM) */
  extraCa?: string | undefined;
  now?: () => Date;
}

/**
 * One probe of a URL: status within the expected range, the keyword in the body (first MiB),
 * and on HTTPS a certificate the system (or `extraCa`) trusts, not expiring within
 * `tlsExpiryDays`. Redirects are not followed: a 3xx is judged as it is.
 */
export function probe(options: ProbeOptions): Promise<ProbeResult> {
  const now = options.now ?? (() => new Date());
  const started = Date.now();
  const at = now().toISOString();
  const url = new URL(options.url);
  const secure = url.protocol === 'https:';
  const done = (result: Omit<ProbeResult, 'at' | 'latencyMs'>): ProbeResult => ({
    at,
    latencyMs: Date.now() - started,
    ...result,
  });
  return new Promise<ProbeResult>((resolve) => {
    const request = (secure ? httpsRequest : httpRequest)(
      url,
      {
        method: options.method,
        timeout: options.timeoutSeconds * 1000,
        headers: { 'user-agent': 'VIP-Hosting-Panel-Uptime/1', accept: '*/*' },
        ...(secure && options.extraCa ? { ca: [...rootCertificates, options.extraCa] } : {}),
        // every connection, an IP literal's too, is checked against the runtime's reach
        agent: guardedAgentFor(options.url, reachOf(options.local)),
      },
      (response: IncomingMessage) => {
        const certificate = secure ? (response.socket as TLSSocket).getPeerCertificate?.() : undefined;
        const tlsExpiresAt = certificate?.valid_to ? new Date(certificate.valid_to).toISOString() : undefined;
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < MAX_BODY_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        response.on('end', () => {
          const statusCode = response.statusCode ?? 0;
          const tls = tlsExpiresAt ? { tlsExpiresAt } : {};
          const { min, max } = options.expectedStatus;
          if (statusCode < min || statusCode > max) {
            resolve(
              done({ ok: false, statusCode, error: `Status ${statusCode}, not ${min} to ${max}`, ...tls }),
            );
            return;
          }
          if (options.keyword && !Buffer.concat(chunks).toString('utf8').includes(options.keyword)) {
            resolve(
              done({
                ok: false,
                statusCode,
                error: `The body does not contain "${options.keyword}"`,
                ...tls,
              }),
            );
            return;
          }
          if (tlsExpiresAt && options.tlsExpiryDays > 0) {
            const daysLeft = (Date.parse(tlsExpiresAt) - now().getTime()) / 86_400_000;
            if (daysLeft < options.tlsExpiryDays) {
              resolve(
                done({
                  ok: false,
                  statusCode,
                  error: `The certificate expires in ${Math.max(0, Math.floor(daysLeft))} days`,
                  ...tls,
                }),
              );
              return;
            }
          }
          resolve(done({ ok: true, statusCode, ...tls }));
        });
        response.on('error', (error) => resolve(done({ ok: false, error: error.message })));
      },
    );
    request.on('timeout', () => request.destroy(new Error(`No answer within ${options.timeoutSeconds} s`)));
    request.on('error', (error) => resolve(done({ ok: false, error: error.message })));
    request.end();
  });
}
