import { AwsServiceError, type JsonOperations } from './aws-json-protocol';

interface LogEvent {
  timestamp: number;
  message: string;
  ingestionTime: number;
}

/**
 * CloudWatch Logs as the local runtime needs it: what Run Command streams of a command's output
 * (its log group, a stream per command, instance, step and stdout/stderr), read back with
 * DescribeLogStreams and GetLogEvents (forward tokens `f/<index>`), in memory.
 */
export function makeLocalLogs() {
  const groups = new Map<string, Map<string, LogEvent[]>>();
  /** a stream's unfinished last line, kept until its newline comes */
  const partial = new Map<string, string>();

  const streamsOf = (group: string) => {
    let streams = groups.get(group);
    if (!streams) {
      streams = new Map();
      groups.set(group, streams);
    }
    return streams;
  };

  /** Output as the SSM agent uploads it: one event per complete line. */
  function append(group: string, stream: string, text: string) {
    const key = `${group}\n${stream}`;
    const lines = `${partial.get(key) ?? ''}${text}`.split('\n');
    partial.set(key, lines.pop() ?? '');
    const events = streamsOf(group).get(stream) ?? [];
    streamsOf(group).set(stream, events);
    const now = Date.now();
    for (const message of lines) events.push({ timestamp: now, message, ingestionTime: now });
  }

  /** The stream's last line, once the command has ended. */
  function flush(group: string, stream: string) {
    const key = `${group}\n${stream}`;
    const rest = partial.get(key);
    partial.delete(key);
    if (rest) append(group, stream, `${rest}\n`);
  }

  const operations: JsonOperations = {
    DescribeLogStreams(input) {
      const group = String(input.logGroupName ?? '');
      const prefix = String(input.logStreamNamePrefix ?? '');
      const streams = groups.get(group);
      if (!streams)
        throw new AwsServiceError('ResourceNotFoundException', 'The specified log group does not exist.');
      return {
        logStreams: [...streams.keys()]
          .filter((name) => name.startsWith(prefix))
          .sort()
          .map((logStreamName) => ({
            logStreamName,
            arn: `arn:aws:logs:local:000000000000:log-group:${group}:log-stream:${logStreamName}`,
          })),
      };
    },
    GetLogEvents(input) {
      const events = groups.get(String(input.logGroupName ?? ''))?.get(String(input.logStreamName ?? ''));
      if (!events)
        throw new AwsServiceError('ResourceNotFoundException', 'The specified log stream does not exist.');
      const token = typeof input.nextToken === 'string' ? /^f\/(\d+)$/.exec(input.nextToken)?.[1] : undefined;
      const from = token ? Number(token) : 0;
      const limit = Math.min(Number(input.limit ?? 10_000), 10_000);
      const page = events.slice(from, from + limit);
      return {
        events: page,
        nextForwardToken: `f/${from + page.length}`,
        nextBackwardToken: `b/${from}`,
      };
    },
  };

  return { operations, append, flush };
}

export type LocalLogs = ReturnType<typeof makeLocalLogs>;
