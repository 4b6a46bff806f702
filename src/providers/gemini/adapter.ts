// Google's Gemini (Generative Language API, v1beta) as an upstream: generateContent,
// streamGenerateContent?alt=sse and batchEmbedContents, translated to and from OpenAI's shapes.
// The key goes in the x-goog-api-key header, never in the URL, so it cannot leak into logs.
import type { Dispatcher } from 'undici';
import type { ChatCompletionRequest, EmbeddingRequest, EmbeddingResponse } from '../../core/openai-types.js';
import { sseChunkStream } from '../event-stream.js';
import type { CallContext, ChatOutcome, DeploymentSettings, ProviderKind, ProviderSettings, UpstreamModel } from '../types.js';
import { readJsonBody } from '../response-body.js';
import { postJson, type Upstream } from '../post-json.js';
import { attributed, malformedUpstream } from '../upstream-errors.js';
import { toGeminiRequest } from './convert-request.js';
import { toChatCompletion } from './convert-response.js';
import { geminiStreamHandler } from './convert-stream.js';
import { fromBatchEmbed, toBatchEmbed } from './embeddings.js';
import { fromGeminiStatus } from './errors.js';
import type { GeminiResponse } from './wire-types.js';

const API_VERSION = /\/(v1|v1beta|v1alpha)$/;

/**
 * `https://generativelanguage.googleapis.com` gets `/v1beta`; a base URL that already names an API
 * version (or a proxy path ending in one) is used as it is.
 */
export function apiBasePath(pathname: string): string {
  const trimmed = pathname.replace(/\/+$/, '');
  return API_VERSION.test(trimmed) ? trimmed : `${trimmed}/v1beta`;
}

/**
 * The model's resource name: `gemini-2.5-flash` -> `models/gemini-2.5-flash`; a configured
 * `models/...` or `tunedModels/...` name is kept. Each segment is escaped for the path.
 */
export function modelResource(model: string): string {
  const resource = model.includes('/') ? model : `models/${model}`;
  return resource.split('/').map(encodeURIComponent).join('/');
}

class GeminiModel implements UpstreamModel {
  readonly deployment: string;
  private readonly origin: string;
  private readonly basePath: string;
  private readonly resource: string;
  private readonly headers: Record<string, string>;

  constructor(
    provider: ProviderSettings,
    private readonly settings: DeploymentSettings,
    private readonly transport: Dispatcher,
  ) {
    this.deployment = settings.name;
    const url = new URL(provider.baseUrl);
    this.origin = url.origin;
    this.basePath = apiBasePath(url.pathname);
    this.resource = modelResource(settings.upstreamModel);
    this.headers = {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      ...provider.headers,
      ...settings.headers,
      ...(provider.apiKey ? { 'x-goog-api-key': provider.apiKey } : {}),
    };
  }

  async chat(request: ChatCompletionRequest, ctx: CallContext): Promise<ChatOutcome> {
    const body = attributed(this.deployment, () => toGeminiRequest(request));
    const streaming = request.stream === true;
    const method = streaming ? 'streamGenerateContent?alt=sse' : 'generateContent';
    const response = await this.post(`${this.resource}:${method}`, body, ctx);
    if (!streaming) {
      const answer = await readJsonBody(response, this.deployment);
      if (answer === null || typeof answer !== 'object') throw malformedUpstream(this.deployment, 'a body that is not a JSON object');
      return { kind: 'completion', completion: toChatCompletion(answer as GeminiResponse, this.deployment, this.settings.upstreamModel) };
    }
    const type = String(response.headers['content-type'] ?? '');
    if (!type.includes('text/event-stream')) {
      // dump() discards the body without the unhandled 'error' event that destroy() raises.
      response.body.dump().catch(() => undefined);
      throw malformedUpstream(this.deployment, `a ${type || 'typeless'} body where an event stream was expected`);
    }
    return { kind: 'stream', chunks: sseChunkStream(response.body, this.deployment, geminiStreamHandler(this.deployment, this.settings.upstreamModel, Math.max(1, request.n ?? 1))) };
  }

  async embed(request: EmbeddingRequest, ctx: CallContext): Promise<EmbeddingResponse> {
    const body = toBatchEmbed(request, decodeURIComponent(this.resource));
    const response = await this.post(`${this.resource}:batchEmbedContents`, body, ctx);
    return fromBatchEmbed(await readJsonBody(response, this.deployment), request, this.settings.upstreamModel, this.deployment);
  }

  /** Where calls go, for postJson: built from this model's own fields, never exposing them. */
  private upstream(): Upstream {
    return { deployment: this.deployment, transport: this.transport, origin: this.origin, headers: this.headers };
  }

  private post(path: string, body: unknown, ctx: CallContext): Promise<Dispatcher.ResponseData> {
    return postJson(this.upstream(), `${this.basePath}/${path}`, body, ctx, fromGeminiStatus);
  }
}

export const gemini: ProviderKind = {
  kind: 'gemini',
  create: (provider, deployment, transport) => new GeminiModel(provider, deployment, transport),
};
