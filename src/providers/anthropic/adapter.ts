// Anthropic's Messages API as an upstream: OpenAI chat requests are translated to POST
// /v1/messages (x-api-key and anthropic-version headers), and answers and event streams are
// translated back to OpenAI shapes. No embeddings: Anthropic offers none.
import type { Dispatcher } from 'undici';
import type { ChatCompletionRequest } from '../../core/openai-types.js';
import { sseChunkStream } from '../event-stream.js';
import { readJsonBody } from '../response-body.js';
import { postJson, type Upstream } from '../post-json.js';
import type { CallContext, ChatOutcome, DeploymentSettings, ProviderKind, ProviderSettings, UpstreamModel } from '../types.js';
import { attributed, malformedUpstream } from '../upstream-errors.js';
import { toAnthropicRequest } from './convert-request.js';
import { toChatCompletion } from './convert-response.js';
import { anthropicStreamHandler } from './convert-stream.js';

/** The API version the translation is written against; a provider's headers may pin another. */
export const ANTHROPIC_VERSION = '2023-06-01';
/** max_tokens when the caller set none (Anthropic requires one); fits every current Claude model. */
export const DEFAULT_MAX_TOKENS = 4096;

export interface AnthropicKindOptions {
  defaultMaxTokens?: number;
}

/** `https://api.anthropic.com` and `https://api.anthropic.com/v1` both mean the same API. */
export function messagesPath(baseUrl: string): string {
  const base = new URL(baseUrl).pathname.replace(/\/+$/, '');
  return base.endsWith('/v1') ? `${base}/messages` : `${base}/v1/messages`;
}

class AnthropicModel implements UpstreamModel {
  readonly deployment: string;
  private readonly origin: string;
  private readonly path: string;
  private readonly headers: Record<string, string>;

  constructor(
    provider: ProviderSettings,
    private readonly settings: DeploymentSettings,
    private readonly transport: Dispatcher,
    private readonly defaultMaxTokens: number,
  ) {
    this.deployment = settings.name;
    this.origin = new URL(provider.baseUrl).origin;
    this.path = messagesPath(provider.baseUrl);
    this.headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'anthropic-version': ANTHROPIC_VERSION,
      ...provider.headers,
      ...settings.headers,
      ...(provider.apiKey ? { 'x-api-key': provider.apiKey } : {}),
    };
  }

  async chat(request: ChatCompletionRequest, ctx: CallContext): Promise<ChatOutcome> {
    const { body, jsonTool } = this.convert(request);
    const response = await this.post(body, ctx);
    if (body.stream !== true) {
      return { kind: 'completion', completion: toChatCompletion(await readJsonBody(response, this.deployment), this.deployment, jsonTool) };
    }
    const type = String(response.headers['content-type'] ?? '');
    if (!type.includes('text/event-stream')) {
      // dump() discards the body without the unhandled 'error' event that destroy() raises.
      response.body.dump().catch(() => undefined);
      throw malformedUpstream(this.deployment, `a ${type || 'typeless'} body where an event stream was expected`);
    }
    return { kind: 'stream', chunks: sseChunkStream(response.body, this.deployment, anthropicStreamHandler(this.deployment, jsonTool)) };
  }

  /** A request Anthropic cannot express is the caller's 400, naming this deployment like any failure. */
  private convert(request: ChatCompletionRequest): ReturnType<typeof toAnthropicRequest> {
    return attributed(this.deployment, () =>
      toAnthropicRequest(request, { upstreamModel: this.settings.upstreamModel, defaultMaxTokens: this.settings.defaultMaxTokens ?? this.defaultMaxTokens }));
  }

  /** Where calls go, for postJson: built from this model's own fields, never exposing them. */
  private upstream(): Upstream {
    return { deployment: this.deployment, transport: this.transport, origin: this.origin, headers: this.headers };
  }

  private post(body: unknown, ctx: CallContext): Promise<Dispatcher.ResponseData> {
    return postJson(this.upstream(), this.path, body, ctx);
  }
}

export function createAnthropicKind(options: AnthropicKindOptions = {}): ProviderKind {
  const defaultMaxTokens = options.defaultMaxTokens ?? DEFAULT_MAX_TOKENS;
  return {
    kind: 'anthropic',
    create: (provider, deployment, transport) => new AnthropicModel(provider, deployment, transport, defaultMaxTokens),
  };
}

export const anthropic: ProviderKind = createAnthropicKind();
