// One adapter for every OpenAI-shaped upstream (OpenAI, Mistral, Groq, DeepSeek, Together,
// OpenRouter, vLLM, Ollama, llama.cpp, LM Studio): they differ only in base URL, key, headers and
// model names, which come from configuration.
import type { Dispatcher } from 'undici';
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionRequest,
  EmbeddingRequest,
  EmbeddingResponse,
} from '../../core/openai-types.js';
import type { CallContext, ChatOutcome, DeploymentSettings, ProviderKind, ProviderSettings, UpstreamModel } from '../types.js';
import { sseChunkStream, type EventHandler } from '../event-stream.js';
import { fromUpstreamStatus, malformedUpstream } from '../upstream-errors.js';
import { readJsonBody } from '../response-body.js';
import { postJson, type Upstream } from '../post-json.js';
import { withPortableToolCallIds } from '../tool-call-ids.js';

class OpenAICompatibleModel implements UpstreamModel {
  readonly deployment: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly headers: Record<string, string>;

  constructor(
    provider: ProviderSettings,
    private readonly settings: DeploymentSettings,
    private readonly transport: Dispatcher,
  ) {
    this.deployment = settings.name;
    const url = new URL(provider.baseUrl);
    this.origin = url.origin;
    this.basePath = url.pathname.replace(/\/+$/, '');
    this.headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...provider.headers,
      ...settings.headers,
      ...(provider.apiKey ? { authorization: `Bearer ${provider.apiKey}` } : {}),
    };
  }

  async chat(request: ChatCompletionRequest, ctx: CallContext): Promise<ChatOutcome> {
    const streaming = request.stream === true;
    // Always ask for usage when streaming so tokens are counted even when the client did not ask;
    // the pipeline drops the usage chunk again for such clients.
    const messages = withPortableToolCallIds(request.messages);
    const body = streaming
      ? { ...request, messages, model: this.settings.upstreamModel, stream_options: { ...request.stream_options, include_usage: true } }
      : { ...request, messages, model: this.settings.upstreamModel };
    const response = await this.post('/chat/completions', body, ctx);
    if (!streaming) {
      const completion = (await readJsonBody(response, this.deployment)) as ChatCompletion | null;
      if (!Array.isArray(completion?.choices)) throw malformedUpstream(this.deployment, 'a completion without choices');
      return { kind: 'completion', completion };
    }
    const type = String(response.headers['content-type'] ?? '');
    if (!type.includes('text/event-stream')) {
      // dump() discards the body without the unhandled 'error' event that destroy() raises.
      response.body.dump().catch(() => undefined);
      throw malformedUpstream(this.deployment, `a ${type || 'typeless'} body where an event stream was expected`);
    }
    return { kind: 'stream', chunks: sseChunkStream(response.body, this.deployment, this.onEvent) };
  }

  async embed(request: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
    const response = await this.post('/embeddings', { ...request, model: this.settings.upstreamModel }, ctx);
    const result = (await readJsonBody(response, this.deployment)) as EmbeddingResponse | null;
    if (!Array.isArray(result?.data)) throw malformedUpstream(this.deployment, 'an embedding response without data');
    return result;
  }

  /** Where calls go, for postJson: built from this model's own fields, never exposing them. */
  private upstream(): Upstream {
    return { deployment: this.deployment, transport: this.transport, origin: this.origin, headers: this.headers };
  }

  private post(path: string, body: unknown, ctx: CallContext): Promise<Dispatcher.ResponseData> {
    return postJson(this.upstream(), this.basePath + path, body, ctx);
  }

  /** OpenAI's stream: each event is one chunk, `[DONE]` ends it, `{"error":...}` is an in-band failure. */
  private readonly onEvent: EventHandler = (event, emit) => {
    if (event.data === '[DONE]') return 'done';
    let parsed: unknown;
    try {
      parsed = JSON.parse(event.data);
    } catch {
      throw malformedUpstream(this.deployment, 'a stream event that is not valid JSON');
    }
    if (parsed !== null && typeof parsed === 'object' && 'error' in parsed) throw fromUpstreamStatus(this.deployment, 502, {}, parsed);
    if (!isChunk(parsed)) throw malformedUpstream(this.deployment, 'a stream event that is not a chat completion chunk');
    emit(parsed);
    return 'more';
  };
}

/** The shape the pipeline relies on; anything else from an upstream is malformed, not a crash. */
function isChunk(value: unknown): value is ChatCompletionChunk {
  if (value === null || typeof value !== 'object') return false;
  const choices = (value as { choices?: unknown }).choices;
  if (!Array.isArray(choices)) return false;
  for (const choice of choices as Array<{ delta?: unknown } | null>) {
    if (choice === null || typeof choice !== 'object') return false;
    if (choice.delta === undefined || choice.delta === null) choice.delta = {};
    else if (typeof choice.delta !== 'object') return false;
  }
  return true;
}

export const openAICompatible: ProviderKind = {
  kind: 'openai-compatible',
  create: (provider, deployment, transport) => new OpenAICompatibleModel(provider, deployment, transport),
};
