// Decides what the simulated model answers: prose, tool calls or JSON, as token pieces with a
// finish reason and usage. It knows nothing about any wire format, so OpenAI, Anthropic and
// Gemini front-ends can share it.
import type { JsonSchema } from '../core/openai-types.js';
import { generateProse } from './prose.js';
import { createRng, hashString, randomAlnum, randomSeed, type Rng } from './rng.js';
import { generateInstance } from './schema-instance.js';
import type { SimAnswer, SimChoice, SimFinishReason, SimRequest, SimTool } from './sim-request.js';
import { tokenPieces } from './tokens.js';

const MIN_ANSWER_TOKENS = 20;
const MAX_ANSWER_TOKENS = 60;

/** What json_object mode answers: a small, plausible object. */
const JSON_OBJECT_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    answer: { type: 'string', minLength: 12, maxLength: 60 },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    tags: { type: 'array', items: { type: 'string', maxLength: 12 }, minItems: 1, maxItems: 3 },
  },
  required: ['answer', 'confidence', 'tags'],
};

export function answer(request: SimRequest): SimAnswer {
  const base = baseSeed(request);
  const choices: SimChoice[] = [];
  let completionTokens = 0;
  for (let index = 0; index < request.n; index++) {
    const choice = answerChoice(request, index, createRng(hashString(String(index), base)));
    completionTokens += choice.completionTokens;
    choices.push(choice);
  }
  return { choices, promptTokens: request.promptTokens, completionTokens };
}

/**
 * With a seed the answer depends only on (seed, model, last message), so identical requests give
 * identical answers; without one every request draws a fresh seed, like a sampling model.
 */
function baseSeed(request: SimRequest): number {
  if (request.seed === undefined) return randomSeed();
  const last = request.messages[request.messages.length - 1];
  let hash = hashString(request.model.id, request.seed >>> 0);
  hash = hashString(String(Math.floor(request.seed / 4294967296)), hash);
  return hashString(last ? `${last.role}:${last.text}` : '', hash);
}

function chooseTool(request: SimRequest, rng: Rng): SimTool | undefined {
  const { tools, toolChoice } = request;
  if (tools.length === 0 || toolChoice === 'none') return undefined;
  if (typeof toolChoice === 'object') return tools.find((t) => t.name === toolChoice.name);
  if (toolChoice === 'required') return rng.pick(tools);
  // "auto": call a tool when the user just spoke; answer in words once a tool result came back.
  const last = request.messages[request.messages.length - 1];
  return last?.role === 'user' ? rng.pick(tools) : undefined;
}

function answerChoice(request: SimRequest, index: number, rng: Rng): SimChoice {
  const tool = chooseTool(request, rng);
  if (tool) {
    const args = JSON.stringify(generateInstance(tool.parameters ?? { type: 'object', properties: {} }, rng));
    const { pieces, truncated } = limit(tokenPieces(args), request.maxTokens);
    return {
      index,
      contentPieces: null,
      toolCalls: [{ id: `call_${randomAlnum(24, rng)}`, name: tool.name, argumentPieces: pieces }],
      finishReason: truncated ? 'length' : 'tool_calls',
      completionTokens: pieces.length,
    };
  }
  const natural = naturalPieces(request, rng);
  const limited = limit(natural, request.maxTokens);
  let finishReason: SimFinishReason = limited.truncated ? 'length' : 'stop';
  let pieces = limited.pieces;
  const cut = cutAtStop(pieces, request.stop);
  if (cut) {
    pieces = cut;
    finishReason = 'stop';
  }
  return { index, contentPieces: pieces, toolCalls: [], finishReason, completionTokens: pieces.length };
}

function naturalPieces(request: SimRequest, rng: Rng): readonly string[] {
  const { output } = request;
  if (output.type === 'json_object') return tokenPieces(JSON.stringify(generateInstance(JSON_OBJECT_SCHEMA, rng)));
  if (output.type === 'json_schema') return tokenPieces(JSON.stringify(generateInstance(output.schema, rng)));
  const length = request.answerTokens ?? rng.int(MIN_ANSWER_TOKENS, MAX_ANSWER_TOKENS);
  return generateProse(rng, length);
}

function limit(pieces: readonly string[], maxTokens: number | undefined): { pieces: readonly string[]; truncated: boolean } {
  if (maxTokens === undefined || pieces.length <= maxTokens) return { pieces, truncated: false };
  return { pieces: pieces.slice(0, maxTokens), truncated: true };
}

/**
 * Cuts the answer just before the earliest stop sequence. A piece the stop sequence starts inside
 * is kept up to that point and still counts as one generated token.
 */
export function cutAtStop(pieces: readonly string[], stops: readonly string[]): string[] | undefined {
  if (stops.length === 0) return undefined;
  const text = pieces.join('');
  let at = -1;
  for (const stop of stops) {
    if (stop.length === 0) continue;
    const found = text.indexOf(stop);
    if (found !== -1 && (at === -1 || found < at)) at = found;
  }
  if (at === -1) return undefined;
  const kept: string[] = [];
  let offset = 0;
  for (const piece of pieces) {
    if (offset >= at) break;
    kept.push(offset + piece.length <= at ? piece : piece.slice(0, at - offset));
    offset += piece.length;
  }
  return kept;
}
