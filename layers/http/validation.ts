import type * as z from 'zod';
import './messages';
import { errors, type FieldError } from '../errors/app-error';

/** Turns zod issues into field errors whose path starts at the request part (`body.name`, `query.limit`). */
export function fieldErrors(part: string, issues: z.core.$ZodIssue[]): FieldError[] {
  return issues.flatMap((issue) => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        path: [part, ...issue.path.map(String), key].join('.'),
        message: 'Unknown field',
      }));
    }
    return [{ path: [part, ...issue.path.map(String)].join('.'), message: issue.message }];
  });
}

/** Parses one part of a request, throwing a 400 that names every bad field. */
export function parsePart<S extends z.ZodType>(schema: S, value: unknown, part: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw errors.validation(fieldErrors(part, result.error.issues));
  return result.data;
}
