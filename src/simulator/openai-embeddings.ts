// POST /v1/embeddings in OpenAI's wire format over the simulated embedding model.
import type { EmbeddingResponse } from '../core/openai-types.js';
import { embedText, toBase64 } from './embeddings.js';
import { findSimModel } from './models.js';
import { describeType, openaiErrors, SimHttpError } from './openai-errors.js';
import { countTokens } from './tokens.js';

type Body = Record<string, unknown>;

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'number' && Number.isInteger(v));
}

/** Turns every accepted input shape into (text to embed, its token count). */
function inputs(raw: unknown): Array<{ text: string; tokens: number }> {
  if (raw === undefined || raw === null) throw openaiErrors.missingParameter('input');
  if (typeof raw === 'string') return [{ text: raw, tokens: countTokens(raw) }];
  if (!Array.isArray(raw)) throw openaiErrors.invalidType('input', 'one of a string or array of strings', describeType(raw));
  if (raw.length === 0) throw openaiErrors.emptyArray('input');
  if (raw.length > 2048) throw openaiErrors.arrayTooLong('input', 2048, raw.length);
  if (isTokenArray(raw)) return [{ text: raw.join(' '), tokens: raw.length }];
  return raw.map((item: unknown) => {
    if (typeof item === 'string') return { text: item, tokens: countTokens(item) };
    if (isTokenArray(item)) return { text: item.join(' '), tokens: item.length };
    throw openaiErrors.invalidType('input', 'one of a string or array of strings', `an array containing ${describeType(item)}`);
  });
}

export function createEmbeddings(body: Body, modelId: string): EmbeddingResponse {
  const model = findSimModel(modelId);
  if (!model) throw openaiErrors.modelNotFound(modelId);
  if (model.kind !== 'embedding' || model.dimensions === undefined) throw openaiErrors.notEmbeddingModel(modelId);
  const format = body.encoding_format ?? 'float';
  if (format !== 'float' && format !== 'base64') {
    throw openaiErrors.invalidValue('encoding_format', `Invalid value: '${String(format)}'. Supported values are: 'float' and 'base64'.`);
  }
  let dimensions = model.dimensions;
  if (body.dimensions !== undefined && body.dimensions !== null) {
    const asked = body.dimensions;
    if (typeof asked !== 'number' || !Number.isInteger(asked)) throw openaiErrors.invalidType('dimensions', 'an integer', describeType(asked));
    if (asked < 1) throw openaiErrors.integerBelowMin('dimensions', 1, asked);
    if (asked > model.dimensions) throw openaiErrors.integerAboveMax('dimensions', model.dimensions, asked);
    dimensions = asked;
  }
  const items = inputs(body.input);
  let promptTokens = 0;
  for (const item of items) {
    if (item.tokens > model.context_length) {
      throw new SimHttpError(400, {
        error: {
          message: `This model's maximum context length is ${model.context_length} tokens, however you requested ${item.tokens} tokens (${item.tokens} in your prompt; 0 for the completion). Please reduce your prompt; or completion length.`,
          type: 'invalid_request_error',
          param: null,
          code: null,
        },
      });
    }
    promptTokens += item.tokens;
  }
  return {
    object: 'list',
    data: items.map((item, index) => {
      const vector = embedText(item.text, model.dimensions!, dimensions);
      return { object: 'embedding', index, embedding: format === 'base64' ? toBase64(vector) : vector };
    }),
    model: model.id,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
