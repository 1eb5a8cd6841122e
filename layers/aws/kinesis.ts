import { KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { getConfig } from '../config/config';
import { base, once } from './client-base';

/** Kinesis; locally it must speak HTTP/1.1, which kinesis-local requires. */
export const kinesisClient = once(() => {
  const endpoint = getConfig().KINESIS_ENDPOINT;
  return new KinesisClient({
    ...base(endpoint),
    ...(endpoint ? { requestHandler: new NodeHttpHandler() } : {}),
  });
});
