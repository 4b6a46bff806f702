// Chat completions -> OpenAI's Response object. The stream (stream.ts) and toResponse assemble the
// same Draft list and finish it here, so a streamed response ends as exactly the object the
// non-streaming path would have built from the same content, item ids included.
import type { GatewayError } from '../core/errors.js';
import type { ChatCompletion, FinishReason, Usage } from '../core/openai-types.js';
import { outputItemId } from './ids.js';
import type {
  FunctionToolEcho,
  ItemStatus,
  LogProb,
  OutputItem,
  RefusalPart,
  ResponseErrorCode,
  ResponseObject,
  ResponseRequest,
  ResponseStatus,
  ResponseUsage,
} from './types.js';

export interface ResponseMeta {
  /** resp_ + 48 hex (ids.ts newResponseId). */
  id: string;
  /** Unix seconds. */
  createdAt: number;
  /** The model that answered (after rerouting or fallback), shown as the response's model. */
  model: string;
  request: ResponseRequest;
  /** Unix seconds for completed_at; the wall clock unless a test fixes it. */
  now?: () => number;
}

/** An output item before it has an id and a status; its place in the list is its output_index. */
export type Draft =
  | { type: 'message'; parts: Array<{ type: 'output_text'; text: string; logprobs: LogProb[] } | RefusalPart> }
  | { type: 'function_call'; call_id: string; name: string; arguments: string };

export function toResponse(completion: ChatCompletion, meta: ResponseMeta): ResponseObject {
  const choice = completion.choices[0];
  const drafts: Draft[] = [];
  if (choice) {
    const { content, refusal, tool_calls: calls } = choice.message;
    const parts: Extract<Draft, { type: 'message' }>['parts'] = [];
    if (content) parts.push({ type: 'output_text', text: content, logprobs: chatLogprobs(choice.logprobs) });
    if (refusal) parts.push({ type: 'refusal', refusal });
    if (parts.length > 0) drafts.push({ type: 'message', parts });
    for (const call of calls ?? []) {
      // Custom tools are never declared upstream (request-tools.ts), so only function calls come back.
      if (call.type === 'function') drafts.push({ type: 'function_call', call_id: call.id, name: call.function.name, arguments: call.function.arguments });
    }
  }
  return finishedResponse(meta, drafts, choice?.finish_reason ?? null, completion.usage);
}

/** The final Response for drafts in output order: completed, or incomplete when the answer was cut. */
export function finishedResponse(meta: ResponseMeta, drafts: readonly Draft[], finish: FinishReason | null, usage: Usage | null | undefined): ResponseObject {
  const reason = finish === 'length' ? 'max_output_tokens' : finish === 'content_filter' ? 'content_filter' : undefined;
  const status = reason ? 'incomplete' : 'completed';
  const response = baseResponse(meta, status);
  response.completed_at = (meta.now ?? wallClock)();
  if (reason) response.incomplete_details = { reason };
  response.output = outputItems(meta.id, drafts, status);
  const mapped = responseUsage(usage);
  if (mapped) response.usage = mapped;
  return response;
}

/** The response as the stream opens it: in progress, no output yet. */
export function inProgressResponse(meta: ResponseMeta): ResponseObject {
  return baseResponse(meta, 'in_progress');
}

/**
 * A response that failed part-way. `output` is what had arrived, each item marked incomplete; the
 * error code is one of the few OpenAI's ResponseError allows (the gateway's own code goes in the
 * stream's error event).
 */
export function failedResponse(meta: ResponseMeta, error: GatewayError, drafts: readonly Draft[] = []): ResponseObject {
  const response = baseResponse(meta, 'failed');
  response.error = { code: responseErrorCode(error), message: error.message };
  response.output = outputItems(meta.id, drafts, 'incomplete');
  return response;
}

export function responseErrorCode(error: GatewayError): ResponseErrorCode {
  return error.status === 429 || error.type === 'rate_limit_error' ? 'rate_limit_exceeded' : 'server_error';
}

/** The items the drafts become; statuses are all `status` (a cut answer leaves its items incomplete). */
export function outputItems(responseId: string, drafts: readonly Draft[], status: ItemStatus): OutputItem[] {
  return drafts.map((draft, index) => outputItem(responseId, draft, index, status));
}

export function outputItem(responseId: string, draft: Draft, index: number, status: ItemStatus): OutputItem {
  if (draft.type === 'function_call') {
    return { type: 'function_call', id: outputItemId(responseId, index, 'fc'), call_id: draft.call_id, name: draft.name, arguments: draft.arguments, status };
  }
  const content = draft.parts.map((part) =>
    part.type === 'refusal' ? { ...part } : { type: 'output_text' as const, text: part.text, annotations: [], logprobs: [...part.logprobs] },
  );
  return { type: 'message', id: outputItemId(responseId, index, 'msg'), status, role: 'assistant', content };
}

function baseResponse(meta: ResponseMeta, status: ResponseStatus): ResponseObject {
  const r = meta.request;
  return {
    id: meta.id,
    object: 'response',
    created_at: meta.createdAt,
    status,
    background: false,
    completed_at: null,
    error: null,
    incomplete_details: null,
    instructions: r.instructions ?? null,
    max_output_tokens: r.max_output_tokens ?? null,
    max_tool_calls: null,
    model: meta.model,
    output: [],
    parallel_tool_calls: r.parallel_tool_calls ?? true,
    previous_response_id: r.previous_response_id ?? null,
    conversation: r.conversation !== undefined ? { id: r.conversation } : null,
    prompt_cache_key: r.prompt_cache_key ?? null,
    reasoning: { effort: r.reasoning?.effort ?? null, summary: r.reasoning?.summary ?? null },
    safety_identifier: r.safety_identifier ?? null,
    // The gateway has no processing tiers of its own: every request is served the default way.
    service_tier: 'default',
    store: r.store,
    temperature: r.temperature ?? 1,
    text: { format: r.text.format ?? { type: 'text' }, verbosity: r.text.verbosity ?? 'medium' },
    tool_choice: r.tool_choice ?? 'auto',
    tools: r.tools.map(echoTool),
    top_logprobs: r.top_logprobs ?? 0,
    top_p: r.top_p ?? 1,
    truncation: r.truncation,
    ...(r.user !== undefined ? { user: r.user } : {}),
    metadata: { ...r.metadata },
  };
}

/**
 * strict is shown as the client set it, null when unset: chat completions (where this gateway
 * sends tools) default to non-strict, so claiming Responses' default of true would be untrue.
 */
function echoTool(tool: ResponseRequest['tools'][number]): FunctionToolEcho {
  return {
    type: 'function',
    name: tool.name,
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    parameters: tool.parameters ?? null,
    strict: tool.strict ?? null,
  };
}

export function responseUsage(usage: Usage | null | undefined): ResponseUsage | undefined {
  if (!usage) return undefined;
  const prompt = (usage.prompt_tokens_details ?? {}) as { cached_tokens?: unknown; cache_write_tokens?: unknown };
  const completion = (usage.completion_tokens_details ?? {}) as { reasoning_tokens?: unknown };
  return {
    input_tokens: usage.prompt_tokens,
    input_tokens_details: { cached_tokens: count(prompt.cached_tokens), cache_write_tokens: count(prompt.cache_write_tokens) },
    output_tokens: usage.completion_tokens,
    output_tokens_details: { reasoning_tokens: count(completion.reasoning_tokens) },
    total_tokens: usage.total_tokens,
  };
}

const count = (value: unknown): number => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0);

/** Chat's logprobs.content entries have the shape Responses' output_text logprobs have. */
export function chatLogprobs(logprobs: unknown): LogProb[] {
  const content = (logprobs as { content?: unknown } | null | undefined)?.content;
  if (!Array.isArray(content)) return [];
  return content.map((entry: Partial<LogProb>) => ({
    token: entry.token ?? '',
    logprob: entry.logprob ?? 0,
    bytes: entry.bytes ?? [],
    top_logprobs: (entry.top_logprobs ?? []).map((top) => ({ token: top.token, logprob: top.logprob, bytes: top.bytes ?? [] })),
  }));
}

const wallClock = (): number => Math.floor(Date.now() / 1000);
