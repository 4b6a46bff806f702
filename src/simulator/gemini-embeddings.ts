// POST /v1beta/models/{model}:batchEmbedContents in Gemini's wire format over the simulated
// embedding model: `{requests:[{model, content:{parts:[{text}]}, outputDimensionality?}]}` in,
// `{embeddings:[{values:[...]}]}` out (Gemini reports no token usage for embeddings).
import { embedText } from './embeddings.js';
import { normaliseFields } from './gemini-contents.js';
import { geminiErrors } from './gemini-errors.js';
import type { SimModel } from './models.js';

type Json = Record<string, unknown>;

const BATCH_FIELDS = new Set(['requests']);
const REQUEST_FIELDS = new Set(['model', 'content', 'taskType', 'title', 'outputDimensionality']);
const MAX_BATCH = 100;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function textOf(content: unknown, at: string): string {
  const parts = isObject(content) ? content.parts : undefined;
  const list = Array.isArray(parts) ? parts : parts === undefined ? [] : [parts];
  if (list.length === 0) throw geminiErrors.invalidArgument(`* BatchEmbedContentsRequest.${at}.content.parts: contents.parts must not be empty.\n`);
  return list.map((part: unknown) => (isObject(part) && typeof part.text === 'string' ? part.text : '')).join('\n');
}

export function batchEmbed(body: Json, model: SimModel): { embeddings: Array<{ values: number[] }> } {
  const dimensions = model.dimensions ?? 0;
  const batch = normaliseFields(body, BATCH_FIELDS, '');
  const requests = batch.requests;
  if (!Array.isArray(requests) || requests.length === 0) throw geminiErrors.invalidArgument('* BatchEmbedContentsRequest.requests: requests must not be empty.\n');
  if (requests.length > MAX_BATCH) throw geminiErrors.invalidArgument(`* BatchEmbedContentsRequest.requests: at most ${MAX_BATCH} requests can be in one batch.\n`);
  return {
    embeddings: requests.map((raw: unknown, i) => {
      const at = `requests[${i}]`;
      if (!isObject(raw)) throw geminiErrors.invalidArgument(`Invalid value at '${at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.EmbedContentRequest), ${JSON.stringify(raw)}`);
      const request = normaliseFields(raw, REQUEST_FIELDS, at);
      if (request.model !== `models/${model.id}`) {
        throw geminiErrors.invalidArgument(`* BatchEmbedContentsRequest.${at}.model: the model in each request must match the model specified in BatchEmbedContentsRequest.model.\n`);
      }
      const asked = request.outputDimensionality;
      if (asked !== undefined && asked !== null && (typeof asked !== 'number' || !Number.isInteger(asked) || asked < 1 || asked > dimensions)) {
        throw geminiErrors.invalidArgument(`* BatchEmbedContentsRequest.${at}.output_dimensionality: output_dimensionality must be in [1, ${dimensions}].\n`);
      }
      const size = typeof asked === 'number' ? asked : dimensions;
      return { values: embedText(textOf(request.content, at), dimensions, size) };
    }),
  };
}
