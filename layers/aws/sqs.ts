import { SQSClient } from '@aws-sdk/client-sqs';
import { getConfig } from '../config/config';
import { base, once } from './client-base';

/** SQS, for the alert webhooks' queue. */
export const sqsClient = once(() => new SQSClient(base(getConfig().SQS_ENDPOINT)));
