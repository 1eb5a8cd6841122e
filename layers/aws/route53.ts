import { Route53Client } from '@aws-sdk/client-route-53';
import { getConfig } from '../config/config';
import { base, once } from './client-base';

/** Route 53, for DNS-01 challenges in the platform's zone. */
export const route53Client = once(() => new Route53Client(base(getConfig().ROUTE53_ENDPOINT)));
