import type { APIGatewayProxyResult } from 'aws-lambda';
import { AppError, problemType } from '../errors/app-error';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  requestId: string;
  errors?: { path: string; message: string }[];
  [extension: string]: unknown;
}

/** Renders any thrown value as RFC 9457 problem+json; only AppErrors that are `expose` say more than "internal error". */
export function toProblem(error: unknown, requestId: string, instance: string): Problem {
  if (error instanceof AppError && error.expose) {
    return {
      ...error.extensions,
      type: problemType(error.code),
      title: error.message,
      status: error.status,
      ...(error.detail ? { detail: error.detail } : {}),
      instance,
      requestId,
      ...(error.errors ? { errors: error.errors } : {}),
    };
  }
  const status = error instanceof AppError ? error.status : 500;
  return {
    type: problemType('internal-error'),
    title: 'Internal error',
    status,
    detail: 'Something went wrong on our side. Quote the requestId if you contact support.',
    instance,
    requestId,
  };
}

export function problemResponse(error: unknown, requestId: string, instance: string): APIGatewayProxyResult {
  const problem = toProblem(error, requestId, instance);
  return {
    statusCode: problem.status,
    headers: {
      'Content-Type': PROBLEM_CONTENT_TYPE,
      ...(error instanceof AppError && error.expose ? error.headers : {}),
    },
    body: JSON.stringify(problem),
  };
}
