import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { getConfig } from '../config/config';
import { base, once } from './client-base';

/** CloudWatch Logs, where Run Command streams commands' output. */
export const logsClient = once(() => new CloudWatchLogsClient(base(getConfig().LOGS_ENDPOINT)));
