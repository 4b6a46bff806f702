// Validates the `system` and `messages` of an Anthropic Messages request (content blocks: text,
// image with a base64 or url source, tool_use, tool_result) and normalises them into the engine's
// SimMessages. Consecutive same-role turns are accepted, as the API combines them into one turn;
// tool_use / tool_result pairing is checked across those combined turns, because that pairing is
// what an adapter most easily gets wrong and the real API rejects it with a 400.
import type { SimModel } from './models.js';
import type { SimMessage } from './sim-request.js';
import { anthropicErrors } from './anthropic-errors.js';

type Obj = Record<string, unknown>;

export function isObject(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const MEDIA_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];
const BLOCKS_BY_ROLE: Record<'user' | 'assistant', readonly string[]> = {
  user: ['text', 'image', 'tool_result'],
  assistant: ['text', 'tool_use'],
};

/** What one message's blocks contained, beyond the SimMessage itself. */
interface Turn {
  role: 'user' | 'assistant';
  index: number;
  toolUseIds: string[];
  toolResults: Array<{ id: string; path: string }>;
}

function requireString(block: Obj, field: string, path: string): string {
  const value = block[field];
  if (value === undefined) throw anthropicErrors.fieldRequired(`${path}.${field}`);
  if (typeof value !== 'string') throw anthropicErrors.wrongType(`${path}.${field}`, 'a valid string');
  return value;
}

function checkText(block: Obj, path: string): string {
  const text = requireString(block, 'text', path);
  if (text.length === 0) throw anthropicErrors.invalidValue('messages', 'text content blocks must be non-empty');
  return text;
}

function checkImage(block: Obj, path: string, model: SimModel): void {
  const source = block.source;
  if (source === undefined) throw anthropicErrors.fieldRequired(`${path}.source`);
  if (!isObject(source)) throw anthropicErrors.wrongType(`${path}.source`, 'a valid dictionary');
  if (source.type === 'base64') {
    const mediaType = requireString(source, 'media_type', `${path}.source`);
    if (!MEDIA_TYPES.includes(mediaType)) {
      throw anthropicErrors.wrongType(`${path}.source.media_type`, "'image/jpeg', 'image/png', 'image/gif' or 'image/webp'");
    }
    requireString(source, 'data', `${path}.source`);
  } else if (source.type === 'url') {
    const url = requireString(source, 'url', `${path}.source`);
    if (!/^https?:\/\//i.test(url)) throw anthropicErrors.invalidValue(`${path}.source.url`, 'Input should be a valid URL');
  } else {
    throw anthropicErrors.unknownBlock(`${path}.source`, String(source.type), ['base64', 'url']);
  }
  if (!model.input_modalities.includes('image')) throw anthropicErrors.imageUnsupported(path, model.id);
}

/** A tool_result's content: a string or text/image blocks. Returns its text; counts its images. */
function checkToolResultContent(block: Obj, path: string, model: SimModel, message: SimMessage): string {
  const content = block.content;
  if (content === undefined || typeof content === 'string') return content ?? '';
  if (!Array.isArray(content)) throw anthropicErrors.wrongType(`${path}.content`, 'a valid string or a valid list');
  const texts: string[] = [];
  content.forEach((part: unknown, k) => {
    const partPath = `${path}.content.${k}`;
    if (!isObject(part)) throw anthropicErrors.wrongType(partPath, 'a valid dictionary');
    if (part.type === 'text') texts.push(checkText(part, partPath));
    else if (part.type === 'image') {
      checkImage(part, partPath, model);
      message.images++;
    } else throw anthropicErrors.unknownBlock(partPath, String(part.type), ['text', 'image']);
  });
  return texts.join('\n');
}

function parseMessage(raw: unknown, i: number, model: SimModel): { message: SimMessage; turn: Turn } {
  const path = `messages.${i}`;
  if (!isObject(raw)) throw anthropicErrors.wrongType(path, 'a valid dictionary');
  if (raw.role === undefined) throw anthropicErrors.fieldRequired(`${path}.role`);
  if (raw.role !== 'user' && raw.role !== 'assistant') throw anthropicErrors.wrongType(`${path}.role`, "'user' or 'assistant'");
  const role = raw.role;
  const turn: Turn = { role, index: i, toolUseIds: [], toolResults: [] };
  const message: SimMessage = { role, text: '', images: 0 };
  const content = raw.content;
  if (content === undefined) throw anthropicErrors.fieldRequired(`${path}.content`);
  if (typeof content === 'string') {
    message.text = content;
    return { message, turn };
  }
  if (!Array.isArray(content)) throw anthropicErrors.wrongType(`${path}.content`, 'a valid string or a valid list');
  const texts: string[] = [];
  content.forEach((block: unknown, j) => {
    const blockPath = `${path}.content.${j}`;
    if (!isObject(block)) throw anthropicErrors.wrongType(blockPath, 'a valid dictionary');
    const type = block.type;
    if (type === undefined) throw anthropicErrors.fieldRequired(`${blockPath}.type`);
    if (typeof type !== 'string' || !BLOCKS_BY_ROLE[role].includes(type)) throw anthropicErrors.unknownBlock(blockPath, String(type), BLOCKS_BY_ROLE[role]);
    if (type === 'text') texts.push(checkText(block, blockPath));
    else if (type === 'image') {
      checkImage(block, blockPath, model);
      message.images++;
    } else if (type === 'tool_use') {
      const id = requireString(block, 'id', blockPath);
      const name = requireString(block, 'name', blockPath);
      if (!isObject(block.input)) throw anthropicErrors.wrongType(`${blockPath}.input`, 'a valid dictionary');
      turn.toolUseIds.push(id);
      (message.toolCalls ??= []).push({ name, arguments: JSON.stringify(block.input) });
    } else {
      const id = requireString(block, 'tool_use_id', blockPath);
      if (block.is_error !== undefined && typeof block.is_error !== 'boolean') throw anthropicErrors.wrongType(`${blockPath}.is_error`, 'a valid boolean');
      turn.toolResults.push({ id, path: blockPath });
      texts.push(checkToolResultContent(block, blockPath, model, message));
    }
  });
  message.text = texts.join('\n');
  // The engine answers in words once tool results came back, and calls a tool after a user turn.
  if (turn.toolResults.length > 0) message.role = 'tool';
  return { message, turn };
}

/** Every tool_use must be answered in the next (combined) user turn, and nothing else answered. */
function checkToolPairing(turns: readonly Turn[]): void {
  const combined: Turn[] = [];
  for (const turn of turns) {
    const last = combined[combined.length - 1];
    if (last && last.role === turn.role) {
      last.toolUseIds.push(...turn.toolUseIds);
      last.toolResults.push(...turn.toolResults);
    } else {
      combined.push({ ...turn, toolUseIds: [...turn.toolUseIds], toolResults: [...turn.toolResults] });
    }
  }
  combined.forEach((turn, k) => {
    const previous = combined[k - 1];
    const next = combined[k + 1];
    if (turn.role === 'assistant' && turn.toolUseIds.length > 0 && next) {
      const answered = new Set(next.toolResults.map((r) => r.id));
      const missing = turn.toolUseIds.filter((id) => !answered.has(id));
      if (missing.length > 0) throw anthropicErrors.toolUseWithoutResult(next.index, missing);
    }
    for (const result of turn.toolResults) {
      if (!previous || !previous.toolUseIds.includes(result.id)) throw anthropicErrors.toolResultWithoutToolUse(result.path, result.id);
    }
  });
}

export function parseMessages(raw: unknown, model: SimModel): SimMessage[] {
  if (!Array.isArray(raw)) throw anthropicErrors.wrongType('messages', 'a valid list');
  if (raw.length === 0) throw anthropicErrors.emptyMessages();
  const parsed = raw.map((m: unknown, i) => parseMessage(m, i, model));
  checkToolPairing(parsed.map((p) => p.turn));
  return parsed.map((p) => p.message);
}

/** `system`: a string or a list of text blocks; absent gives no system message. */
export function parseSystem(raw: unknown): SimMessage[] {
  if (raw === undefined || raw === null) return [];
  if (typeof raw === 'string') return raw.length > 0 ? [{ role: 'system', text: raw, images: 0 }] : [];
  if (!Array.isArray(raw)) throw anthropicErrors.wrongType('system', 'a valid string or a valid list');
  const texts = raw.map((block: unknown, i) => {
    const path = `system.${i}`;
    if (!isObject(block)) throw anthropicErrors.wrongType(path, 'a valid dictionary');
    if (block.type !== 'text') throw anthropicErrors.unknownBlock(path, String(block.type), ['text']);
    return checkText(block, path);
  });
  return texts.length > 0 ? [{ role: 'system', text: texts.join('\n'), images: 0 }] : [];
}
