import {
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
  ResourceNotFoundException,
  ThrottlingException,
} from '@aws-sdk/client-cloudwatch-logs';
import { logsClient } from '../../layers/aws/logs';

/** Lines a running command printed since the last read, from the streams Run Command writes. */
export interface CommandLogLine {
  stream: 'stdout' | 'stderr';
  line: string;
}

/**
 * Reads a command's output as Run Command streams it to CloudWatch Logs
 * (`<command>/<instance>/<step>/stdout` and `/stderr`), each call answering only what came since
 * the call before (one reader per event stream).
 */
export function commandLogReader(logGroupName: string) {
  const tokens = new Map<string, string>();
  /** the streams found so far per command: listed only until its stdout and stderr both exist */
  const found = new Map<string, string[]>();
  return async (command: { id: string; instanceId: string }): Promise<CommandLogLine[]> => {
    const lines: CommandLogLine[] = [];
    const prefix = `${command.id}/${command.instanceId}/`;
    try {
      let streams = found.get(prefix) ?? [];
      if (streams.length < 2) {
        const { logStreams = [] } = await logsClient().send(
          new DescribeLogStreamsCommand({ logGroupName, logStreamNamePrefix: prefix }),
        );
        streams = logStreams.flatMap((stream) => (stream.logStreamName ? [stream.logStreamName] : []));
        found.set(prefix, streams);
      }
      for (const logStreamName of streams) {
        const read = await logsClient().send(
          new GetLogEventsCommand({
            logGroupName,
            logStreamName,
            startFromHead: true,
            ...(tokens.get(logStreamName) ? { nextToken: tokens.get(logStreamName) } : {}),
          }),
        );
        if (read.nextForwardToken) tokens.set(logStreamName, read.nextForwardToken);
        const stream = logStreamName.endsWith('/stderr') ? 'stderr' : 'stdout';
        for (const event of read.events ?? []) lines.push({ stream, line: event.message ?? '' });
      }
    } catch (error) {
      // nothing streamed yet (the agent makes its streams as the command prints), or CloudWatch
      // Logs throttled this poll: the next poll reads on from where this one stopped
      if (!(error instanceof ResourceNotFoundException || error instanceof ThrottlingException)) throw error;
    }
    return lines;
  };
}
