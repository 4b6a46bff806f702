// OpenAI's error envelope and the exact wording, statuses and codes the real API uses, so that
// the gateway's error handling is exercised against realistic bodies.
import type { ErrorBody } from '../core/openai-types.js';

/** OpenAI's envelope; `code` is widened because the 502 from OpenAI's edge carries a number. */
export interface WireErrorBody {
  error: Omit<ErrorBody['error'], 'code'> & { code: string | number | null };
}

export { describeType } from '../core/describe-type.js';

export class SimHttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: WireErrorBody,
    readonly headers: Record<string, string> = {},
  ) {
    super(body.error.message);
  }
}

function invalid(status: number, message: string, param: string | null = null, code: string | null = null): SimHttpError {
  return new SimHttpError(status, { error: { message, type: 'invalid_request_error', param, code } });
}

const HELP = 'You can retry your request, or contact us through our help center at help.openai.com if the error persists.';

export const openaiErrors = {
  invalidJson: () =>
    invalid(
      400,
      "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)",
    ),
  bodyTooLarge: (limit: number) => invalid(413, `Request body too large. The maximum size is ${limit} bytes.`),
  missingModel: () => invalid(400, 'you must provide a model parameter'),
  missingParameter: (param: string) => invalid(400, `Missing required parameter: '${param}'.`, param, 'missing_required_parameter'),
  invalidType: (param: string, expected: string, got: string) =>
    invalid(400, `Invalid type for '${param}': expected ${expected}, but got ${got} instead.`, param, 'invalid_type'),
  emptyArray: (param: string) =>
    invalid(400, `Invalid '${param}': empty array. Expected an array with minimum length 1, but got an empty array instead.`, param, 'empty_array'),
  streamOptionsWithoutStream: () => invalid(400, "The 'stream_options' parameter is only allowed when 'stream' is enabled.", 'stream_options'),
  arrayTooLong: (param: string, max: number, got: number) =>
    invalid(
      400,
      `Invalid '${param}': array too long. Expected an array with maximum length ${max}, but got an array with length ${got} instead.`,
      param,
      'array_above_max_length',
    ),
  invalidValue: (param: string, message: string) => invalid(400, message, param, 'invalid_value'),
  integerAboveMax: (param: string, max: number, got: number) =>
    invalid(400, `Invalid '${param}': integer above maximum value. Expected a value <= ${max}, but got ${got} instead.`, param, 'integer_above_max_value'),
  integerBelowMin: (param: string, min: number, got: number) =>
    invalid(400, `Invalid '${param}': integer below minimum value. Expected a value >= ${min}, but got ${got} instead.`, param, 'integer_below_min_value'),
  modelNotFound: (model: string) =>
    invalid(404, `The model \`${model}\` does not exist or you do not have access to it.`, null, 'model_not_found'),
  notChatModel: () =>
    invalid(404, 'This is not a chat model and thus not supported in the v1/chat/completions endpoint. Did you mean to use v1/completions?', 'model'),
  notEmbeddingModel: (model: string) => invalid(400, `The model \`${model}\` does not support embeddings.`, 'model'),
  imageUnsupported: (param: string) => invalid(400, 'Invalid content type. image_url is only supported by certain models.', param),
  contextLengthMessages: (limit: number, prompt: number) =>
    invalid(
      400,
      `This model's maximum context length is ${limit} tokens. However, your messages resulted in ${prompt} tokens. Please reduce the length of the messages.`,
      'messages',
      'context_length_exceeded',
    ),
  contextLengthCompletion: (limit: number, prompt: number, completion: number) =>
    invalid(
      400,
      `This model's maximum context length is ${limit} tokens. However, you requested ${prompt + completion} tokens (${prompt} in the messages, ${completion} in the completion). Please reduce the length of the messages or completion.`,
      'messages',
      'context_length_exceeded',
    ),
  maxTokensTooLarge: (param: string, limit: number, got: number) =>
    invalid(400, `${param} is too large: ${got}. This model supports at most ${limit} completion tokens, whereas you provided ${got}.`, param, 'invalid_value'),
  missingApiKey: () =>
    invalid(
      401,
      "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username and password. You can obtain an API key from https://platform.openai.com/account/api-keys.",
    ),
  wrongApiKey: (key: string) =>
    invalid(
      401,
      `Incorrect API key provided: ${key.length > 8 ? `${key.slice(0, 3)}*****${key.slice(-4)}` : key}. You can find your API key at https://platform.openai.com/account/api-keys.`,
      null,
      'invalid_api_key',
    ),
  unknownRoute: (method: string, path: string) => invalid(404, `Invalid URL (${method} ${path})`),
  badFaultSpec: (detail: string) => invalid(400, `Invalid x-sim-fault: ${detail}`, 'x-sim-fault'),
  rateLimited: (model: string, retryAfterSeconds: number) =>
    new SimHttpError(429, {
      error: {
        message: `Rate limit reached for ${model} in organization org-floodgatesim on requests per min (RPM): Limit 10000, Used 10000, Requested 1. Please try again in ${retryAfterSeconds}s. Visit https://platform.openai.com/account/rate-limits to learn more.`,
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
      },
    }),
  serverError: (requestId: string) =>
    new SimHttpError(500, {
      error: {
        message: `The server had an error while processing your request. Sorry about that! ${HELP} (Please include the request ID ${requestId} in your message.)`,
        type: 'server_error',
        param: null,
        code: null,
      },
    }),
  badGateway: () => new SimHttpError(502, { error: { message: 'Bad gateway.', type: 'cf_bad_gateway', param: null, code: 502 } }),
  overloaded: (requestId: string) =>
    new SimHttpError(503, {
      error: {
        message: `That model is currently overloaded with other requests. ${HELP} (Please include the request ID ${requestId} in your message.)`,
        type: 'server_error',
        param: null,
        code: null,
      },
    }),
  refusal: () =>
    invalid(
      400,
      'Your request was rejected as a result of our safety system. Your prompt may contain text that is not allowed by our safety system.',
      null,
      'content_policy_violation',
    ),
};
