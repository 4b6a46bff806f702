// OpenAI embeddings <-> Gemini `models.batchEmbedContents`: one EmbedContentRequest per input
// text, `dimensions` as outputDimensionality. Gemini reports no token usage for embeddings, so
// the usage returned is zero rather than a guess.
import { GatewayError } from '../../core/errors.js';
import type { EmbeddingRequest, EmbeddingResponse } from '../../core/openai-types.js';
import { malformedUpstream } from '../upstream-errors.js';

export interface BatchEmbedRequest {
  requests: Array<{ model: string; content: { parts: Array<{ text: string }> }; outputDimensionality?: number }>;
}

function texts(input: EmbeddingRequest['input']): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input) && input.every((item) => typeof item === 'string')) return input as string[];
  // Token arrays are tied to OpenAI's tokenizers; Gemini only embeds text.
  throw new GatewayError('This model embeds text only; token arrays are not supported.', {
    status: 400, type: 'invalid_request_error', code: 'unsupported_parameter', param: 'input',
  });
}

/** `resource` is the model's resource name, e.g. `models/gemini-embedding-001`. */
export function toBatchEmbed(request: EmbeddingRequest, resource: string): BatchEmbedRequest {
  const dimensions = typeof request.dimensions === 'number' ? { outputDimensionality: request.dimensions } : {};
  return { requests: texts(request.input).map((text) => ({ model: resource, content: { parts: [{ text }] }, ...dimensions })) };
}

/** OpenAI's base64 encoding: the little-endian float32 bytes of the vector. */
function base64(values: number[]): string {
  const bytes = Buffer.allocUnsafe(values.length * 4);
  values.forEach((value, i) => bytes.writeFloatLE(value, i * 4));
  return bytes.toString('base64');
}

export function fromBatchEmbed(body: unknown, request: EmbeddingRequest, model: string, deployment: string): EmbeddingResponse {
  const embeddings = (body as { embeddings?: unknown } | null)?.embeddings;
  if (!Array.isArray(embeddings)) throw malformedUpstream(deployment, 'an embedding response without embeddings');
  return {
    object: 'list',
    data: embeddings.map((item: unknown, index) => {
      const values = (item as { values?: unknown } | null)?.values;
      if (!Array.isArray(values) || !values.every((v) => typeof v === 'number')) throw malformedUpstream(deployment, 'an embedding without values');
      return { object: 'embedding', index, embedding: request.encoding_format === 'base64' ? base64(values) : values };
    }),
    model,
    usage: { prompt_tokens: 0, total_tokens: 0 },
  };
}
