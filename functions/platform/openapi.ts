import { isDeepStrictEqual } from 'node:util';
import * as z from 'zod';
import type { RouteSpec } from '../../layers/http/route';

type JsonSchema = Record<string, unknown>;

const problemResponse = {
  description: 'Problem',
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
};

/**
 * Builds the OpenAPI 3.1 document from the same zod schemas that validate requests, so the
 * document cannot drift from what the API accepts. Schemas with a `meta({ id })` become
 * components; where a request's input shape differs from the response shape (defaults make
 * fields optional on input), the input one is named `<id>Input`.
 */
export function buildOpenApi(
  routes: readonly RouteSpec[],
  info: { title: string; version: string; serverUrl?: string },
) {
  const components: Record<string, JsonSchema> = {};

  function convert(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
    const {
      $schema: _drop,
      $defs,
      ...json
    } = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema & {
      $defs?: Record<string, JsonSchema>;
    };
    const names = new Map<string, string>();
    for (const [id, def] of Object.entries($defs ?? {})) {
      let name = id;
      if (components[name] && !isDeepStrictEqual(components[name], def))
        name = `${id}${io === 'input' ? 'Input' : 'Output'}`;
      names.set(id, name);
    }
    const rewrite = (value: unknown): unknown => {
      if (Array.isArray(value)) return value.map(rewrite);
      if (value && typeof value === 'object') {
        return Object.fromEntries(
          Object.entries(value).map(([k, v]) =>
            k === '$ref' && typeof v === 'string' && v.startsWith('#/$defs/')
              ? [k, `#/components/schemas/${names.get(v.slice(8)) ?? v.slice(8)}`]
              : [k, rewrite(v)],
          ),
        );
      }
      return value;
    };
    for (const [id, def] of Object.entries($defs ?? {})) {
      components[names.get(id) ?? id] = rewrite(def) as JsonSchema;
    }
    return rewrite(json) as JsonSchema;
  }

  const paths: Record<string, Record<string, unknown>> = {};
  for (const spec of routes) {
    const parameters: Record<string, unknown>[] = [
      ...parametersOf(spec.params, 'path', convert),
      ...parametersOf(spec.query, 'query', convert),
    ];
    if (spec.idempotent) {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description: 'Replays the first response for the same key and body within 24 hours.',
        schema: { type: 'string', maxLength: 255 },
      });
    }
    const responses = Object.fromEntries(
      Object.entries(spec.responses).map(([status, response]) => {
        if (Number(status) >= 400) return [status, { ...problemResponse, description: response.description }];
        return [
          status,
          response.schema
            ? {
                description: response.description,
                content: { 'application/json': { schema: convert(response.schema, 'output') } },
              }
            : { description: response.description },
        ];
      }),
    );
    paths[spec.path] ??= {};
    (paths[spec.path] as Record<string, unknown>)[spec.method.toLowerCase()] = {
      operationId: spec.operationId,
      summary: spec.summary,
      tags: spec.tags,
      ...(spec.auth === 'user' ? { security: [{ bearer: [] }] } : { security: [] }),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(spec.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: convert(spec.body, 'input') } },
            },
          }
        : {}),
      responses: { ...responses, default: { ...problemResponse, description: 'Error' } },
    };
  }

  return {
    openapi: '3.1.0',
    info: { title: info.title, version: info.version },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    paths,
    components: {
      schemas: components,
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
    },
  };
}

function parametersOf(
  schema: z.ZodObject | undefined,
  where: 'path' | 'query',
  convert: (schema: z.ZodType, io: 'input' | 'output') => JsonSchema,
) {
  if (!schema) return [];
  const json = convert(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }));
}
