import { SESv2Client } from '@aws-sdk/client-sesv2';
import { getConfig } from '../config/config';
import { base, once } from './client-base';

/** SES, which sends invitations, resets and alert emails. */
export const sesClient = once(() => new SESv2Client(base(getConfig().SES_ENDPOINT)));
