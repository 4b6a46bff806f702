// Reads Gemini `contents` and `systemInstruction` (Content messages made of Parts) into the
// engine's SimMessages. A user turn's functionResponse parts become tool messages, so the engine
// answers in words after a tool result exactly as it does for OpenAI's role "tool".
import type { SimModel } from './models.js';
import { geminiErrors } from './gemini-errors.js';
import { camelCase, snakeCase } from './gemini-schema.js';
import type { SimMessage } from './sim-request.js';

type Json = Record<string, unknown>;

const CONTENT_FIELDS = new Set(['role', 'parts']);
const PART_FIELDS = new Set([
  'text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult',
  'thought', 'thoughtSignature', 'videoMetadata', 'partMetadata', 'mediaResolution',
]);
/** Exactly one of these is the part's payload (the proto's `data` oneof). */
const DATA_FIELDS = ['text', 'inlineData', 'fileData', 'functionCall', 'functionResponse', 'executableCode', 'codeExecutionResult'];
const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns a copy keyed by camelCase names, rejecting names the message does not have. */
export function normaliseFields(raw: Json, allowed: ReadonlySet<string>, at: string): Json {
  const out: Json = {};
  for (const [key, value] of Object.entries(raw)) {
    const name = camelCase(key);
    if (!allowed.has(name)) throw geminiErrors.unknownField(key, at);
    out[name] = value;
  }
  return out;
}

/** proto3 JSON lets a repeated field be given as a single value; the cookbook's own samples do. */
function asList(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

interface PartsSummary {
  texts: string[];
  images: number;
  calls: Array<{ name: string; arguments: string; signed: boolean }>;
  responses: Array<{ name: string; text: string }>;
  /** Kinds in order, so user text after a tool result stays last. */
  order: Array<'text' | 'response'>;
}

function readPart(raw: unknown, at: string, model: SimModel, summary: PartsSummary): void {
  if (!isObject(raw)) throw geminiErrors.invalidArgument(`Invalid value at '${at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Part), ${JSON.stringify(raw)}`);
  const part = normaliseFields(raw, PART_FIELDS, at);
  const present = DATA_FIELDS.filter((f) => part[f] !== undefined && part[f] !== null);
  if (present.length === 0) throw geminiErrors.invalidArgument(`* GenerateContentRequest.${at}.data: required oneof field 'data' must have one initialized field\n`);
  if (present.length > 1) throw geminiErrors.invalidArgument(`Invalid JSON payload received. Oneof field 'data' is already set. Cannot set '${snakeCase(present[1]!)}'`);
  const kind = present[0]!;
  const value = part[kind];
  if (kind === 'text') {
    if (typeof value !== 'string') throw geminiErrors.invalidArgument(`Invalid value at '${at}.text' (TYPE_STRING), ${JSON.stringify(value)}`);
    summary.texts.push(value);
    summary.order.push('text');
  } else if (kind === 'inlineData' || kind === 'fileData') {
    readMedia(kind, value, `${at}.${snakeCase(kind)}`, model, summary);
  } else if (kind === 'functionCall') {
    const call = isObject(value) ? value : {};
    if (typeof call.name !== 'string' || call.name.length === 0) throw geminiErrors.invalidArgument(`* GenerateContentRequest.${at}.function_call.name: Name cannot be empty.\n`);
    const args = isObject(call.args) ? call.args : {};
    const signed = typeof part.thoughtSignature === 'string' && part.thoughtSignature.length > 0;
    summary.calls.push({ name: call.name, arguments: JSON.stringify(args), signed });
  } else if (kind === 'functionResponse') {
    const response = isObject(value) ? value : {};
    if (typeof response.name !== 'string' || response.name.length === 0) {
      throw geminiErrors.invalidArgument(`* GenerateContentRequest.${at}.function_response.name: Name cannot be empty.\n`);
    }
    if (!isObject(response.response)) {
      throw geminiErrors.invalidArgument(`Invalid value at '${at}.function_response.response' (type.googleapis.com/google.protobuf.Struct), ${JSON.stringify(response.response ?? null)}`);
    }
    summary.responses.push({ name: response.name, text: JSON.stringify(response.response) });
    summary.order.push('response');
  } else {
    summary.texts.push(JSON.stringify(value));
    summary.order.push('text');
  }
}

function readMedia(kind: 'inlineData' | 'fileData', raw: unknown, at: string, model: SimModel, summary: PartsSummary): void {
  const media = isObject(raw) ? raw : {};
  const mimeType = typeof media.mimeType === 'string' ? media.mimeType : typeof media.mime_type === 'string' ? media.mime_type : '';
  if (kind === 'inlineData') {
    if (mimeType.length === 0) throw geminiErrors.invalidArgument(`* GenerateContentRequest.${at}.mime_type: mime_type must not be empty.\n`);
    const data = media.data;
    if (typeof data !== 'string' || !BASE64.test(data)) {
      throw geminiErrors.invalidArgument(`Invalid value at '${at}.data' (TYPE_BYTES), Base64 decoding failed for ${JSON.stringify(String(data).slice(0, 40))}`);
    }
    if (mimeType.startsWith('text/')) {
      summary.texts.push(Buffer.from(data, 'base64').toString('utf8'));
      summary.order.push('text');
      return;
    }
  } else {
    const uri = media.fileUri ?? media.file_uri;
    if (typeof uri !== 'string' || uri.length === 0) throw geminiErrors.invalidArgument(`* GenerateContentRequest.${at}.file_uri: file_uri must not be empty.\n`);
  }
  // fileData may omit the MIME type; the API then infers it, and an image is what a chat sends.
  if (mimeType !== '' && !mimeType.startsWith('image/')) throw geminiErrors.invalidArgument(`Unsupported MIME type: ${mimeType}`);
  if (!model.input_modalities.includes('image')) throw geminiErrors.imageUnsupported(model.id);
  summary.images++;
}

function readParts(content: Json, at: string, model: SimModel): PartsSummary {
  const parts = asList(content.parts);
  if (parts.length === 0) throw geminiErrors.invalidArgument(`* GenerateContentRequest.${at}.parts: contents.parts must not be empty.\n`);
  const summary: PartsSummary = { texts: [], images: 0, calls: [], responses: [], order: [] };
  parts.forEach((part, j) => readPart(part, `${at}.parts[${j}]`, model, summary));
  return summary;
}

/** `systemInstruction`: a Content whose role is ignored; only its text is read. */
export function readSystemInstruction(raw: unknown, model: SimModel): SimMessage | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObject(raw)) throw geminiErrors.invalidArgument(`Invalid value at 'system_instruction' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), ${JSON.stringify(raw)}`);
  const content = normaliseFields(raw, CONTENT_FIELDS, 'system_instruction');
  const summary = readParts(content, 'system_instruction', model);
  return { role: 'system', text: summary.texts.join('\n'), images: summary.images };
}

type Turn = { role: string; summary: PartsSummary };

/** A model turn; checks the two rules Gemini enforces on function-call turns. */
function modelMessage(turns: Turn[], i: number, currentTurnStart: number): SimMessage {
  const { summary } = turns[i]!;
  const calls = summary.calls;
  if (i > currentTurnStart && calls.length > 0 && !calls[0]!.signed) throw geminiErrors.missingThoughtSignature(calls[0]!.name, i);
  const next = turns[i + 1];
  if (calls.length > 0 && next && (next.role === 'model' || next.summary.responses.length !== calls.length)) {
    throw geminiErrors.invalidArgument('Please ensure that the number of function response parts is equal to the number of function call parts of the function call turn.');
  }
  return {
    role: 'assistant',
    text: summary.texts.join(''),
    images: summary.images,
    ...(calls.length > 0 ? { toolCalls: calls.map(({ name, arguments: args }) => ({ name, arguments: args })) } : {}),
  };
}

/** A user turn: its text and images form one user message, each function response a tool message, in order. */
function userMessages(summary: PartsSummary): SimMessage[] {
  const messages: SimMessage[] = [];
  const responses = [...summary.responses];
  let userAdded = false;
  for (const kind of summary.order) {
    if (kind === 'response') {
      const response = responses.shift()!;
      messages.push({ role: 'tool', text: response.text, images: 0, name: response.name });
    } else if (!userAdded) {
      userAdded = true;
      messages.push({ role: 'user', text: summary.texts.join('\n'), images: summary.images });
    }
  }
  if (!userAdded && summary.images > 0) messages.push({ role: 'user', text: '', images: summary.images });
  return messages;
}

export function readContents(raw: unknown, model: SimModel): SimMessage[] {
  const list = asList(raw);
  if (list.length === 0) throw geminiErrors.fieldProblem('contents', 'contents is not specified');
  // Gemini 3 rejects a current-turn function call without its thought signature; "current turn"
  // is everything after the last user message that carries text rather than tool results.
  let currentTurnStart = 0;
  const turns: Turn[] = list.map((item: unknown, i) => {
    const at = `contents[${i}]`;
    if (!isObject(item)) throw geminiErrors.invalidArgument(`Invalid value at '${at}' (type.googleapis.com/google.ai.generativelanguage.v1beta.Content), ${JSON.stringify(item)}`);
    const content = normaliseFields(item, CONTENT_FIELDS, at);
    const role = content.role ?? 'user';
    if (role !== 'user' && role !== 'model' && role !== 'function') throw geminiErrors.invalidArgument('Please use a valid role: user, model.');
    const summary = readParts(content, at, model);
    if (role !== 'model' && (summary.texts.length > 0 || summary.images > 0)) currentTurnStart = i;
    return { role, summary };
  });
  return turns.flatMap((turn, i) => (turn.role === 'model' ? [modelMessage(turns, i, currentTurnStart)] : userMessages(turn.summary)));
}
