// OpenAI's Responses API as Floodgate serves it over chat completions: the typed subset of
// CreateResponse we accept, the items it carries (as sent, "*Param", and as stored and shown, with
// ids), the Response object and its stream events. Names and shapes follow OpenAI's OpenAPI
// document (CreateResponse, InputItem, ItemResource, Response, ResponseStreamEvent).
import type { JsonSchema } from '../core/openai-types.js';

export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';
export type ImageDetail = 'low' | 'high' | 'auto' | 'original';
export type MessageRole = 'user' | 'system' | 'developer' | 'assistant';

/** A token's log probability as content parts carry it (chat's shape, which Responses shares). */
export interface LogProb {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: Array<{ token: string; logprob: number; bytes: number[] }>;
}

// ---- content parts -------------------------------------------------------------------------

export interface InputTextPart { type: 'input_text'; text: string }
export interface InputImagePart { type: 'input_image'; image_url: string; detail: ImageDetail }
/** Only inline files (file_data) cross to chat completions; file_id and file_url are refused. */
export interface InputFilePart { type: 'input_file'; file_data: string; filename?: string }
export interface OutputTextPart { type: 'output_text'; text: string; annotations: unknown[]; logprobs: LogProb[] }
export interface RefusalPart { type: 'refusal'; refusal: string }
export type InputPart = InputTextPart | InputImagePart | InputFilePart;
export type OutputPart = OutputTextPart | RefusalPart;

/** Parts as a client may send them: detail, annotations and logprobs may be left out. */
export type PartParam =
  | InputTextPart
  | InputFilePart
  | { type: 'input_image'; image_url: string; detail?: ImageDetail }
  | { type: 'output_text'; text: string; annotations?: unknown[]; logprobs?: LogProb[] }
  | RefusalPart;

// ---- items as sent (ResponseRequest.input) --------------------------------------------------

export interface MessageParam {
  type: 'message';
  id?: string;
  role: MessageRole;
  content: string | PartParam[];
  status?: ItemStatus;
}
export interface FunctionCallParam {
  type: 'function_call';
  id?: string;
  call_id: string;
  name: string;
  arguments: string;
  status?: ItemStatus;
}
export interface FunctionCallOutputParam {
  type: 'function_call_output';
  id?: string;
  call_id: string;
  output: string | InputTextPart[];
  status?: ItemStatus;
}
export interface ReasoningParam {
  type: 'reasoning';
  id?: string;
  summary: Array<{ type: 'summary_text'; text: string }>;
  content?: Array<{ type: 'reasoning_text'; text: string }>;
  encrypted_content?: string | null;
  status?: ItemStatus;
}
export type InputItemParam = MessageParam | FunctionCallParam | FunctionCallOutputParam | ReasoningParam;

// ---- items with ids, as stored and shown (ItemResource) --------------------------------------

export interface InputMessage { type: 'message'; id: string; role: 'user' | 'system' | 'developer'; content: InputPart[]; status: ItemStatus }
export interface OutputMessage { type: 'message'; id: string; role: 'assistant'; content: OutputPart[]; status: ItemStatus }
export interface FunctionCall { type: 'function_call'; id: string; call_id: string; name: string; arguments: string; status: ItemStatus }
export interface FunctionCallOutput { type: 'function_call_output'; id: string; call_id: string; output: string | InputTextPart[]; status: ItemStatus }
export interface Reasoning extends Omit<ReasoningParam, 'id'> { id: string }

/** An item of a conversation: input a client sent, or output of an earlier response. */
export type InputItem = InputMessage | OutputMessage | FunctionCall | FunctionCallOutput | Reasoning;
export type Item = InputItem;
/** What a response produces over chat completions. */
export type OutputItem = OutputMessage | FunctionCall;

// ---- the request -----------------------------------------------------------------------------

export interface FunctionToolParam {
  type: 'function';
  name: string;
  description?: string | null;
  parameters?: JsonSchema | null;
  strict?: boolean | null;
}

export type ResponseToolChoice =
  | 'none'
  | 'auto'
  | 'required'
  | { type: 'function'; name: string }
  | { type: 'allowed_tools'; mode: 'auto' | 'required'; tools: Array<{ type: 'function'; name: string }> };

export type TextFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: JsonSchema; description?: string; strict?: boolean | null };

export type Verbosity = 'low' | 'medium' | 'high';
export type ReasoningEffort = 'none' | 'minimal' | 'low' | 'medium' | 'high' | 'xhigh' | 'max';
export type ReasoningSummary = 'auto' | 'concise' | 'detailed';
export type ServiceTier = 'auto' | 'default' | 'flex' | 'scale' | 'priority' | 'fast' | 'ultrafast';

export const INCLUDE_VALUES = [
  'file_search_call.results',
  'web_search_call.results',
  'web_search_call.action.sources',
  'message.input_image.image_url',
  'computer_call_output.output.image_url',
  'code_interpreter_call.outputs',
  'reasoning.encrypted_content',
  'message.output_text.logprobs',
] as const;
export type IncludeValue = (typeof INCLUDE_VALUES)[number];

/**
 * A validated CreateResponse body. A field the client left out (or sent as null) is absent, except
 * where the API's default is needed by every reader: store, stream, tools, metadata, include,
 * truncation and text.
 */
export interface ResponseRequest {
  model: string;
  /** As sent; normalizeInput turns it into items with ids. */
  input: string | InputItemParam[];
  instructions?: string;
  tools: FunctionToolParam[];
  tool_choice?: ResponseToolChoice;
  parallel_tool_calls?: boolean;
  text: { format?: TextFormat; verbosity?: Verbosity };
  max_output_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_logprobs?: number;
  metadata: Record<string, string>;
  store: boolean;
  stream: boolean;
  previous_response_id?: string;
  /** The conversation's id, whether it came as a string or as {id}. */
  conversation?: string;
  truncation: 'auto' | 'disabled';
  user?: string;
  safety_identifier?: string;
  prompt_cache_key?: string;
  include: IncludeValue[];
  reasoning?: { effort?: ReasoningEffort; summary?: ReasoningSummary };
  service_tier?: ServiceTier;
}

// ---- the response ----------------------------------------------------------------------------

export type ResponseStatus = 'completed' | 'failed' | 'in_progress' | 'incomplete';

/** The codes OpenAI's ResponseError allows that a gateway can honestly report. */
export type ResponseErrorCode = 'server_error' | 'rate_limit_exceeded';

export interface ResponseUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** Tools as a Response shows them: strict and parameters are always present (null when unset). */
export interface FunctionToolEcho {
  type: 'function';
  name: string;
  description?: string | null;
  parameters: JsonSchema | null;
  strict: boolean | null;
}

export interface ResponseObject {
  id: string;
  object: 'response';
  created_at: number;
  status: ResponseStatus;
  background: boolean;
  completed_at: number | null;
  error: { code: ResponseErrorCode; message: string } | null;
  incomplete_details: { reason: 'max_output_tokens' | 'content_filter' } | null;
  instructions: string | null;
  max_output_tokens: number | null;
  max_tool_calls: number | null;
  model: string;
  output: OutputItem[];
  parallel_tool_calls: boolean;
  previous_response_id: string | null;
  conversation: { id: string } | null;
  prompt_cache_key: string | null;
  reasoning: { effort: ReasoningEffort | null; summary: ReasoningSummary | null };
  safety_identifier: string | null;
  service_tier: ServiceTier;
  store: boolean;
  temperature: number;
  text: { format: TextFormat; verbosity: Verbosity };
  tool_choice: ResponseToolChoice;
  tools: FunctionToolEcho[];
  top_logprobs: number;
  top_p: number;
  truncation: 'auto' | 'disabled';
  /** Absent until the upstream reported usage: the spec does not allow null here. */
  usage?: ResponseUsage;
  /** Absent unless the client sent one: the spec does not allow null here. */
  user?: string;
  metadata: Record<string, string>;
}

// ---- stream events ---------------------------------------------------------------------------

/** Log probabilities as text delta events carry them (no bytes). */
export interface DeltaLogProb { token: string; logprob: number; top_logprobs: Array<{ token: string; logprob: number }> }

type Seq = { sequence_number: number };
type PartRef = { item_id: string; output_index: number; content_index: number };
type Lifecycle<T extends string> = Seq & { type: T; response: ResponseObject };
type ItemEvent<T extends string> = Seq & { type: T; output_index: number; item: OutputItem };
type PartEvent<T extends string> = Seq & PartRef & { type: T; part: OutputPart };

/** The events this gateway streams, one member per event type (OpenAI's ResponseStreamEvent subset). */
export type ResponseStreamEvent =
  | Lifecycle<'response.created'>
  | Lifecycle<'response.in_progress'>
  | Lifecycle<'response.completed'>
  | Lifecycle<'response.incomplete'>
  | Lifecycle<'response.failed'>
  | ItemEvent<'response.output_item.added'>
  | ItemEvent<'response.output_item.done'>
  | PartEvent<'response.content_part.added'>
  | PartEvent<'response.content_part.done'>
  | (Seq & PartRef & { type: 'response.output_text.delta'; delta: string; logprobs: DeltaLogProb[] })
  | (Seq & PartRef & { type: 'response.output_text.done'; text: string; logprobs: DeltaLogProb[] })
  | (Seq & PartRef & { type: 'response.refusal.delta'; delta: string })
  | (Seq & PartRef & { type: 'response.refusal.done'; refusal: string })
  | (Seq & { type: 'response.function_call_arguments.delta'; item_id: string; output_index: number; delta: string })
  | (Seq & { type: 'response.function_call_arguments.done'; item_id: string; output_index: number; name: string; arguments: string })
  | (Seq & {
      type: 'error';
      code: string | null;
      message: string;
      param: string | null;
      /** Not in the spec's ResponseErrorEvent; see stream.ts for why it is there. */
      error: { type: string; code: string | null; message: string; param: string | null };
    });

export type ResponseStreamEventType = ResponseStreamEvent['type'];
