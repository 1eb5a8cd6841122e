import * as z from 'zod';

/** A prefixed ULID path parameter; anything else is a 400 naming the parameter. */
export const prefixedId = (prefix: string) =>
  z.string().regex(new RegExp(`^${prefix}_[0-9a-hjkmnp-tv-z]{26}$`), `Must be a ${prefix}_ id`);

export const tenantParams = z.strictObject({ tenantId: prefixedId('ten') });

/** `?limit=&cursor=` as every list takes them. */
export const pageQuery = {
  limit: z.coerce.number().int().min(1).max(100).default(25),
  cursor: z.string().min(1).max(2048).optional(),
};

export const listOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string().optional(),
    instance: z.string().optional(),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

export const isoTimestamp = z.iso.datetime();

/** The problems every tenant-scoped route can answer, for the OpenAPI document. */
export const tenantRouteProblems = (what: string) => ({
  400: { description: 'Invalid request', schema: problemSchema },
  401: { description: 'Missing or invalid token', schema: problemSchema },
  404: { description: `No such tenant or ${what}`, schema: problemSchema },
});
