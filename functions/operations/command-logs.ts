import {
  DescribeLogStreamsCommand,
  GetLogEventsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-cloudwatch-logs';
import { logsClient } from '../../layers/aws/clients';

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
  return async (command: { id: string; instanceId: string }): Promise<CommandLogLine[]> => {
    const lines: CommandLogLine[] = [];
    try {
      const { logStreams = [] } = await logsClient().send(
        new DescribeLogStreamsCommand({
          logGroupName,
          logStreamNamePrefix: `${command.id}/${command.instanceId}/`,
        }),
      );
      for (const { logStreamName } of logStreams) {
        if (!logStreamName) continue;
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
      // nothing streamed yet (the agent makes its streams as the command prints)
      if (!(error instanceof ResourceNotFoundException)) throw error;
    }
    return lines;
  };
}
