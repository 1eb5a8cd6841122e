import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { KinesisClient } from '@aws-sdk/client-kinesis';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SSMClient } from '@aws-sdk/client-ssm';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { getConfig } from '../config/config';

/** Memoizes a factory so each client is built once per process, on first use. */
function once<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

const base = (endpoint: string | undefined) => ({
  region: getConfig().AWS_REGION,
  maxAttempts: 3,
  ...(endpoint ? { endpoint } : {}),
});

/** The DynamoDB document client: plain JS values in and out, undefined attributes dropped. */
export const documentClient = once(() =>
  DynamoDBDocumentClient.from(new DynamoDBClient(base(getConfig().DYNAMODB_ENDPOINT)), {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  }),
);

/** Kinesis; locally it must speak HTTP/1.1, which kinesis-local requires. */
export const kinesisClient = once(() => {
  const endpoint = getConfig().KINESIS_ENDPOINT;
  return new KinesisClient({
    ...base(endpoint),
    ...(endpoint ? { requestHandler: new NodeHttpHandler() } : {}),
  });
});

export const ssmClient = once(() => new SSMClient(base(getConfig().SSM_ENDPOINT)));

export const sfnClient = once(() => new SFNClient(base(getConfig().SFN_ENDPOINT)));

export const sesClient = once(() => new SESv2Client(base(getConfig().SES_ENDPOINT)));
