// Request and response schemas that describe a route in the OpenAPI document without Fastify
// compiling them. The compatibility routes (/v2, /api/phone) parse and check their own bodies so
// that every refusal is Twilio's or Django REST framework's exact answer: a `body` schema would let
// Fastify refuse first in phone-verify's format, and a `response` schema would have
// fast-json-stringify drop or coerce fields of the wire format.
import type { SwaggerTransform } from '@fastify/swagger';
import type { FastifySchema } from 'fastify';

/** What the document shows beyond the route's own summary and tags. */
export interface DocumentedSchema {
  description?: string;
  consumes?: string[];
  body?: unknown;
  querystring?: unknown;
  params?: unknown;
  response?: Record<number, unknown>;
}

/** Route config (`config: openapiOnly(…)`) that adds the schemas to this route's operation only. */
export function openapiOnly(documented: DocumentedSchema): { swaggerTransform: SwaggerTransform } {
  return {
    swaggerTransform: ({ schema, url }) => ({
      schema: { ...(schema as FastifySchema), ...documented } as FastifySchema,
      url,
    }),
  };
}
