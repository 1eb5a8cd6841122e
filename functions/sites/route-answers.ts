import { operationSchema } from '../operations/spec';
import { problemSchema } from '../shared-schemas';
import { siteSchema } from './spec';

/** What a site's change answers: 202 with the site and its operation. */
export const accepted = (description: string) => ({
  202: { description, schema: siteSchema.extend({ operation: operationSchema }) },
});
export const busy = {
  409: { description: 'A change to the site, or to its server, is under way', schema: problemSchema },
};
