// Anthropic's error envelope, statuses and wording for the simulator's POST /v1/messages, so the
// gateway's Anthropic adapter is exercised against the bodies the real API sends. Shapes and
// statuses from Anthropic's "Errors" page (docs.anthropic.com/en/api/errors): a top-level
// `type: "error"`, an `error` object with `type` and `message`, and `request_id`.
// Field messages follow the API's "<path>: <problem>" form (e.g. "max_tokens: Field required").

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'overloaded_error';

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: AnthropicErrorType; message: string };
  request_id?: string;
}

export class AnthropicHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errorType: AnthropicErrorType,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }

  body(requestId: string): AnthropicErrorBody {
    return { type: 'error', error: { type: this.errorType, message: this.message }, request_id: requestId };
  }
}

const invalid = (message: string): AnthropicHttpError => new AnthropicHttpError(400, 'invalid_request_error', message);

export const anthropicErrors = {
  invalidJson: () => invalid('There was an error parsing the body of your request: the body is not valid JSON.'),
  bodyTooLarge: () => new AnthropicHttpError(413, 'request_too_large', 'Request exceeds the maximum allowed number of bytes.'),
  fieldRequired: (path: string) => invalid(`${path}: Field required`),
  extraField: (path: string) => invalid(`${path}: Extra inputs are not permitted`),
  wrongType: (path: string, expected: string) => invalid(`${path}: Input should be ${expected}`),
  invalidValue: (path: string, problem: string) => invalid(`${path}: ${problem}`),
  emptyMessages: () => invalid('messages: at least one message is required'),
  unknownBlock: (path: string, type: string, allowed: readonly string[]) =>
    invalid(`${path}: Input tag '${type}' found using 'type' does not match any of the expected tags: ${allowed.map((t) => `'${t}'`).join(', ')}`),
  imageUnsupported: (path: string, model: string) => invalid(`${path}: the model \`${model}\` does not support image input.`),
  maxTokensTooLarge: (got: number, limit: number, model: string) =>
    invalid(`max_tokens: ${got} > ${limit}, which is the maximum allowed number of output tokens for ${model}`),
  promptTooLong: (prompt: number, limit: number) => invalid(`prompt is too long: ${prompt} tokens > ${limit} maximum`),
  contextExceeded: (prompt: number, maxTokens: number, limit: number) =>
    invalid(`input length and \`max_tokens\` exceed context limit: ${prompt} + ${maxTokens} > ${limit}, decrease input length or \`max_tokens\` and try again`),
  toolUseWithoutResult: (index: number, ids: readonly string[]) =>
    invalid(
      `messages.${index}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${ids.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
    ),
  toolResultWithoutToolUse: (path: string, id: string) =>
    invalid(
      `${path}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
    ),
  toolChoiceWithoutTools: () => invalid('tool_choice: tool_choice may only be specified while providing tools.'),
  unknownTool: (name: string) => invalid(`tool_choice.tool.name: Tool '${name}' not found in the provided tools`),
  missingVersion: () => invalid('anthropic-version: header is required'),
  badVersion: (value: string) => invalid(`anthropic-version: "${value}" is not a valid version`),
  missingApiKey: () => new AnthropicHttpError(401, 'authentication_error', 'x-api-key header is required'),
  wrongApiKey: () => new AnthropicHttpError(401, 'authentication_error', 'invalid x-api-key'),
  modelNotFound: (model: string) => new AnthropicHttpError(404, 'not_found_error', `model: ${model}`),
  notChatModel: (model: string) => new AnthropicHttpError(404, 'not_found_error', `model: ${model} does not support the Messages API`),
  unknownRoute: () => new AnthropicHttpError(404, 'not_found_error', 'Not Found'),
  badFaultSpec: (detail: string) => invalid(`x-sim-fault: ${detail}`),
  rateLimited: (limit: number, headers: Record<string, string>) =>
    new AnthropicHttpError(
      429,
      'rate_limit_error',
      `This request would exceed the rate limit for your organization of ${limit.toLocaleString('en-US')} requests per minute. For details, refer to: https://docs.anthropic.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.`,
      headers,
    ),
  apiError: () => new AnthropicHttpError(500, 'api_error', 'Internal server error'),
  // Anthropic documents no 502/503 bodies; its edge answers them in the same envelope.
  badGateway: () => new AnthropicHttpError(502, 'api_error', 'Bad gateway'),
  unavailable: (retryAfterSeconds: number) =>
    new AnthropicHttpError(503, 'api_error', 'Service unavailable', { 'retry-after': String(Math.ceil(retryAfterSeconds)) }),
  overloaded: () => new AnthropicHttpError(529, 'overloaded_error', 'Overloaded'),
};

/** The in-band stream error, exactly as the streaming docs show it (no request_id inside). */
export const OVERLOADED_EVENT = `event: error\ndata: ${JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })}\n\n`;
