import { KMSClient } from '@aws-sdk/client-kms';
import { getConfig } from '../config/config';
import { base, once } from './client-base';

/** KMS, for tenants' backup data keys. */
export const kmsClient = once(() => new KMSClient(base(getConfig().KMS_ENDPOINT)));
