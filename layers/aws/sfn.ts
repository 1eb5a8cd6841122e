import { SFNClient } from '@aws-sdk/client-sfn';
import { getConfig } from '../config/config';
import { base, once } from './client-base';

/** Step Functions, which run the workflows. */
export const sfnClient = once(() => new SFNClient(base(getConfig().SFN_ENDPOINT)));
