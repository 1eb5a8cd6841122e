import { SSMClient } from '@aws-sdk/client-ssm';
import { getConfig } from '../config/config';
import { base, once } from './client-base';

/** SSM: Parameter Store (the platform's secrets, providers' credentials), Run Command and hybrid activations. */
export const ssmClient = once(() => new SSMClient(base(getConfig().SSM_ENDPOINT)));
