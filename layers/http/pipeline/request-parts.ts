import { parsePart } from '../validation';
import { errors, type Middleware, routed } from './state';

/** Validates the query and the body against the route's schemas: a 400 names every bad field. */
export const requestParts = (): Middleware => ({
  before: (request) => {
    const event = request.event;
    const state = routed(event);
    const { spec } = state;
    state.query = spec.query ? parsePart(spec.query, event.queryStringParameters ?? {}, 'query') : undefined;
    if (!spec.body && event.parsedBody !== undefined) {
      throw errors.validation([{ path: 'body', message: 'This route takes no body' }]);
    }
    state.body = spec.body ? parsePart(spec.body, event.parsedBody, 'body') : undefined;
  },
});
