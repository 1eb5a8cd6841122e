import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { getConfig } from '../config/config';
import { base, once } from './client-base';

/** EventBridge, for domain events (alert transitions). */
export const eventsClient = once(() => new EventBridgeClient(base(getConfig().EVENTS_ENDPOINT)));
