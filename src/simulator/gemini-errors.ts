// Gemini's error envelope (google.rpc.Status as JSON): `{"error":{"code","message","status","details"}}`
// with the HTTP status equal to `code`, and the wording the Generative Language API really uses for
// the common mistakes, so the gateway's Gemini adapter is exercised against realistic bodies.
// Sources: ai.google.dev/gemini-api/docs/troubleshooting (status table) and bodies quoted in public
// issue reports; see test/fixtures/gemini/README.md.

export type GeminiStatus =
  | 'INVALID_ARGUMENT'
  | 'FAILED_PRECONDITION'
  | 'PERMISSION_DENIED'
  | 'NOT_FOUND'
  | 'RESOURCE_EXHAUSTED'
  | 'INTERNAL'
  | 'UNAVAILABLE'
  | 'DEADLINE_EXCEEDED';

export interface GeminiErrorBody {
  error: { code: number; message: string; status: GeminiStatus; details?: Array<Record<string, unknown>> };
}

export class GeminiHttpError extends Error {
  readonly body: GeminiErrorBody;

  constructor(
    readonly status: number,
    grpcStatus: GeminiStatus,
    message: string,
    details?: Array<Record<string, unknown>>,
  ) {
    super(message);
    this.body = { error: { code: status, message, status: grpcStatus, ...(details ? { details } : {}) } };
  }
}

const invalid = (message: string): GeminiHttpError => new GeminiHttpError(400, 'INVALID_ARGUMENT', message);

/** The wording of Google's JSON parser when a field name is not in the proto. */
export const unknownField = (name: string, at: string): GeminiHttpError =>
  invalid(`Invalid JSON payload received. Unknown name "${name}"${at ? ` at '${at}'` : ''}: Cannot find field.`);

const RATE_LIMIT_DOCS = 'https://ai.google.dev/gemini-api/docs/rate-limits';

export const geminiErrors = {
  invalidArgument: invalid,
  unknownField,
  invalidJson: (detail: string) => invalid(`Invalid JSON payload received. ${detail}`),
  /** A request-field problem, prefixed the way the API lists them: `* Request.field: problem`. */
  fieldProblem: (field: string, problem: string) => invalid(`* GenerateContentRequest.${field}: ${problem}\n`),
  bodyTooLarge: (limit: number) => invalid(`Request payload size exceeds the limit: ${limit} bytes.`),
  missingApiKey: () =>
    new GeminiHttpError(
      403,
      'PERMISSION_DENIED',
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    ),
  wrongApiKey: () =>
    new GeminiHttpError(400, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', [
      { '@type': 'type.googleapis.com/google.rpc.ErrorInfo', reason: 'API_KEY_INVALID', domain: 'googleapis.com', metadata: { service: 'generativelanguage.googleapis.com' } },
      { '@type': 'type.googleapis.com/google.rpc.LocalizedMessage', locale: 'en-US', message: 'API key not valid. Please pass a valid API key.' },
    ]),
  modelNotFound: (model: string, method: string) =>
    new GeminiHttpError(
      404,
      'NOT_FOUND',
      `models/${model} is not found for API version v1beta, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
    ),
  unknownRoute: (method: string, path: string) => new GeminiHttpError(404, 'NOT_FOUND', `Method not found: ${method} ${path}`),
  badFaultSpec: (detail: string) => invalid(`Invalid x-sim-fault: ${detail}`),
  imageUnsupported: (model: string) => invalid(`Image input modality is not enabled for models/${model}`),
  contextTooLong: (prompt: number, limit: number) =>
    invalid(`The input token count (${prompt}) exceeds the maximum number of tokens allowed (${limit}).`),
  maxOutputTooLarge: (got: number, limit: number) =>
    invalid(
      `Unable to submit request because it has a maxOutputTokens value of ${got} but the supported range is from 1 (inclusive) to ${limit + 1} (exclusive). Update the value and try again.`,
    ),
  missingThoughtSignature: (name: string, position: number) =>
    invalid(
      `Function call is missing a thought_signature in functionCall parts. This is required for tools to work correctly, and missing thought_signature may lead to degraded model performance. Additional data, function call \`default_api:${name}\` , position ${position}. Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details.`,
    ),
  /** Gemini sends no Retry-After header: the wait is only in the body, as google.rpc.RetryInfo. */
  rateLimited: (model: string, retryAfterSeconds: number) =>
    new GeminiHttpError(
      429,
      'RESOURCE_EXHAUSTED',
      `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: ${RATE_LIMIT_DOCS}. \n* Quota exceeded for metric: generativelanguage.googleapis.com/generate_content_paid_tier_requests, limit: 10000, model: ${model}\nPlease retry in ${retryAfterSeconds}s.`,
      [
        { '@type': 'type.googleapis.com/google.rpc.Help', links: [{ description: 'Learn more about Gemini API quotas', url: RATE_LIMIT_DOCS }] },
        {
          '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
          violations: [
            {
              quotaMetric: 'generativelanguage.googleapis.com/generate_content_paid_tier_requests',
              quotaId: 'GenerateRequestsPerMinutePerProjectPerModel',
              quotaDimensions: { location: 'global', model },
              quotaValue: '10000',
            },
          ],
        },
        { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: formatDuration(retryAfterSeconds) },
      ],
    ),
  internal: () =>
    new GeminiHttpError(
      500,
      'INTERNAL',
      'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
    ),
  /** Google's front end answers a 502 with its own HTML page; the JSON form keeps clients parsing. */
  badGateway: () => new GeminiHttpError(502, 'UNAVAILABLE', 'Bad Gateway'),
  overloaded: () => new GeminiHttpError(503, 'UNAVAILABLE', 'The model is overloaded. Please try again later.'),
};

/** A protobuf Duration as JSON: seconds with an `s` suffix ("7s", "1.5s"). */
export function formatDuration(seconds: number): string {
  return `${Number(seconds.toFixed(3))}s`;
}
