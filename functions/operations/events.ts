import { createHash } from 'node:crypto';
import { type OperationItem, toOperation } from '../../layers/model/operations';

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

export interface EventStreamOptions {
  /** the id of the last event the client saw (the Last-Event-ID header of a reconnect) */
  lastEventId?: string | undefined;
  pollMs: number;
  /** a stream ends after this long; the client reconnects with Last-Event-ID */
  maxMs: number;
  heartbeatMs: number;
  /** what a running step's command printed since the last call, when its output streams */
  readLog?: (command: { id: string; instanceId: string }) => Promise<{ stream: string; line: string }[]>;
}

/** An event's id: the operation's last change, and a digest of what it shows then. */
const eventId = (view: ReturnType<typeof toOperation>) =>
  `${view.updatedAt}.${createHash('sha256').update(JSON.stringify(view)).digest('hex').slice(0, 12)}`;

/**
 * An operation as a server-sent event stream (text/event-stream): an `operation` event with
 * the whole operation each time it changes, a comment line as a heartbeat while nothing does,
 * and `end` once it has ended. A client that reconnects with the last id it saw gets only what
 * changed since. Each poll is one consistent GetItem; while a step runs a command on a host, a
 * `log` event carries the lines it printed since the last poll (a deploy's log as it runs).
 */
export async function* operationEvents(
  first: OperationItem,
  load: () => Promise<OperationItem | undefined>,
  options: EventStreamOptions,
): AsyncGenerator<string> {
  const started = Date.now();
  let lastId = options.lastEventId;
  let lastWrite = Date.now();
  let watching: { id: string; instanceId: string } | undefined;
  yield `retry: ${Math.max(1000, options.pollMs)}\n\n`;
  for (let item: OperationItem | undefined = first; ; item = await load()) {
    if (!item) {
      yield 'event: end\ndata: {"status":"gone"}\n\n';
      return;
    }
    const view = toOperation(item);
    const id = eventId(view);
    if (id !== lastId) {
      yield `id: ${id}\nevent: operation\ndata: ${JSON.stringify(view)}\n\n`;
      lastId = id;
      lastWrite = Date.now();
    }
    // the running step's command, or (once, after it ended) the one watched till then: its last lines
    const running = Object.values(item.steps).find((step) => step.status === 'running' && step.command);
    const command = running?.command ?? watching;
    watching = running?.command;
    if (options.readLog && command) {
      const lines = await options.readLog(command);
      if (lines.length > 0) {
        yield `event: log\ndata: ${JSON.stringify({ lines })}\n\n`;
        lastWrite = Date.now();
      }
    }
    if (ENDED.has(view.status)) {
      yield `event: end\ndata: ${JSON.stringify({ status: view.status })}\n\n`;
      return;
    }
    if (Date.now() - started >= options.maxMs) return;
    if (Date.now() - lastWrite >= options.heartbeatMs) {
      yield ': still running\n\n';
      lastWrite = Date.now();
    }
    await new Promise((resolve) => setTimeout(resolve, options.pollMs));
  }
}
