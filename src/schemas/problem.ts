// The problem+json body (RFC 9457) every error answers with, as a schema for routes and OpenAPI.
import { type Static, Type } from '@sinclair/typebox';
import { PROBLEMS, type ProblemCode } from '../errors.js';

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'URI identifying the problem type' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Union(
      Object.keys(PROBLEMS).map((code) => Type.Literal(code)),
      { description: 'stable machine-readable error code' },
    ),
    instance: Type.Optional(Type.String()),
  },
  { $id: 'Problem', title: 'Problem', description: 'An RFC 9457 problem document with a stable `code`' },
);
export type ProblemBody = Static<typeof ProblemSchema>;

/** Response schemas for the error statuses a route can answer with. */
export function problemResponses(...codes: ProblemCode[]): Record<number, unknown> {
  const responses: Record<number, unknown> = {};
  for (const code of codes) {
    const { status } = PROBLEMS[code];
    const existing = responses[status] as { description: string } | undefined;
    const description = existing ? `${existing.description}, ${code}` : code;
    responses[status] = Type.Ref(ProblemSchema, { description });
  }
  return responses;
}
