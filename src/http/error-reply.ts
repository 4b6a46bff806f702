// The one place any failure becomes OpenAI's error envelope with the status OpenAI would use.
import type { FastifyError } from 'fastify';
import { clientClosed, GatewayError, internalError, isAbort } from '../core/errors.js';

interface AjvError {
  keyword: string;
  instancePath: string;
  params: Record<string, unknown>;
  message?: string;
}

/** Maps anything thrown inside a request to a GatewayError a client may see. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (isAbort(error)) return clientClosed();
  const e = error as FastifyError & { validation?: AjvError[]; validationContext?: string };
  if (Array.isArray(e.validation) && e.validation.length > 0) return fromValidation(e.validation);
  switch (e.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new GatewayError('The request body is larger than this server accepts.', {
        status: 413, type: 'invalid_request_error', code: 'request_too_large',
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new GatewayError('The request body is empty; send a JSON object.', {
        status: 400, type: 'invalid_request_error', code: 'invalid_json',
      });
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new GatewayError('The request body could not be read.', { status: 400, type: 'invalid_request_error', code: 'invalid_body' });
  }
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    return new GatewayError('The request could not be read.', { status: e.statusCode, type: 'invalid_request_error', code: 'invalid_request' });
  }
  return internalError();
}

/** `/messages/0/content` -> `messages[0].content`, the way OpenAI names a param. */
export function toParamPath(instancePath: string, child?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (child !== undefined) parts.push(child);
  return parts.reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc ? `${acc}.${part}` : part), '');
}

function fromValidation(errors: AjvError[]): GatewayError {
  // With anyOf, Ajv reports every branch's failure. The deepest path is the most specific one
  // (a missing image url beats "content is not a string"); type failures there are merged.
  const useful = errors.filter((x) => x.keyword !== 'if' && x.keyword !== 'anyOf');
  const candidates = useful.length > 0 ? useful : errors;
  const depth = (x: AjvError) => x.instancePath.split('/').length + (x.keyword === 'required' ? 1 : 0);
  const deepest = Math.max(...candidates.map(depth));
  const atDeepest = candidates.filter((x) => depth(x) === deepest);
  const first = atDeepest[0]!;
  const missing = first.keyword === 'required' ? String(first.params.missingProperty) : undefined;
  const param = toParamPath(first.instancePath, missing) || null;
  if (param === null) {
    return new GatewayError('The request body must be a JSON object.', { status: 400, type: 'invalid_request_error', code: 'invalid_json' });
  }
  let message: string;
  switch (first.keyword) {
    case 'required':
      message = `Missing required parameter: '${param}'.`;
      break;
    case 'type': {
      const types = [...new Set(atDeepest.filter((x) => x.keyword === 'type').map((x) => String(x.params.type)))];
      message = `Invalid type for '${param}': expected ${types.join(' or ')}.`;
      break;
    }
    case 'enum':
      message = `Invalid value for '${param}': expected one of ${(first.params.allowedValues as unknown[]).map((v) => `'${String(v)}'`).join(', ')}.`;
      break;
    case 'maxItems':
      message = `Invalid '${param}': array too long. Expected an array with maximum length ${String(first.params.limit)}.`;
      break;
    case 'minItems':
      message = `Invalid '${param}': empty array. Expected an array with minimum length ${String(first.params.limit)}.`;
      break;
    default:
      message = `Invalid value for '${param}': ${first.message ?? 'not accepted'}.`;
  }
  const code = first.keyword === 'required' ? 'missing_required_parameter' : first.keyword === 'type' ? 'invalid_type' : 'invalid_value';
  return new GatewayError(message, { status: 400, type: 'invalid_request_error', code, param });
}
