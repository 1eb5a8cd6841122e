import { APIGatewayClient } from '@aws-sdk/client-api-gateway';
import { getConfig } from '../config/config';
import { base, once } from './client-base';

/** API Gateway's management API, for resellers' usage keys. */
export const apiGatewayClient = once(() => new APIGatewayClient(base(getConfig().APIGATEWAY_ENDPOINT)));
