import type { IncomingMessage, ServerResponse } from 'node:http';

/** An AWS service error as the JSON protocols carry it: the SDK rebuilds the typed exception from `__type`. */
export class AwsServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = type;
  }
}

export type JsonOperations = Record<string, (input: Record<string, unknown>) => unknown>;

/**
 * Serves AWS JSON-protocol requests (`X-Amz-Target: <Prefix>.<Operation>`) for the local
 * stand-ins, so the SDK clients the handlers use talk to them unchanged.
 */
export async function serveJsonProtocol(
  request: IncomingMessage,
  response: ServerResponse,
  body: string,
  services: Record<string, JsonOperations>,
): Promise<void> {
  const target = String(request.headers['x-amz-target'] ?? '');
  const [prefix, operation] = target.split('.');
  const contentType = String(request.headers['content-type'] ?? 'application/x-amz-json-1.1');
  const send = (status: number, payload: unknown) => {
    response.writeHead(status, { 'content-type': contentType });
    response.end(JSON.stringify(payload));
  };
  const implementation = prefix && operation ? services[prefix]?.[operation] : undefined;
  if (!implementation) {
    send(400, { __type: 'UnknownOperationException', message: `Unsupported operation ${target}` });
    return;
  }
  try {
    const output = await implementation(body ? (JSON.parse(body) as Record<string, unknown>) : {});
    send(200, output ?? {});
  } catch (error) {
    if (error instanceof AwsServiceError) {
      send(error.status, { __type: error.type, message: error.message });
    } else {
      send(500, {
        __type: 'InternalServerError',
        message: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/** Seconds since the epoch, as the JSON protocols encode timestamps. */
export const epochSeconds = (date: Date = new Date()): number => date.getTime() / 1000;
