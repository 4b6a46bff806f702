// OpenAI chat request -> Gemini GenerateContentRequest. System and developer messages become
// systemInstruction, assistant turns role "model", tool results functionResponse parts in a user
// turn; consecutive turns of one role are merged because Gemini expects user and model to
// alternate. What Gemini cannot express is refused with a 400 naming the parameter, never dropped.
import { GatewayError } from '../../core/errors.js';
import type { ChatCompletionRequest, ChatMessage, ContentPart, JsonSchema, ToolChoice } from '../../core/openai-types.js';
import { SKIP_SIGNATURE, signatureOf } from './tool-call-id.js';
import type { GeminiContent, GeminiFunctionDeclaration, GeminiGenerationConfig, GeminiPart, GeminiRequest } from './wire-types.js';

function unsupported(message: string, param: string): GatewayError {
  return new GatewayError(message, { status: 400, type: 'invalid_request_error', code: 'unsupported_parameter', param });
}

const IMAGE_TYPES: Record<string, string> = {
  png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', heic: 'image/heic', heif: 'image/heif',
};

/** `data:<mime>[;base64],<payload>` -> inlineData; Gemini wants the bytes base64-encoded. */
function dataUrlPart(url: string, param: string): GeminiPart {
  const match = /^data:([^;,]+)((?:;[^;,]*)*?)(;base64)?,(.*)$/s.exec(url);
  if (!match) throw unsupported('The data URL is not valid: expected data:<mime type>;base64,<data>.', param);
  const [, mimeType, , base64, payload] = match;
  let data: string;
  try {
    data = base64 ? payload! : Buffer.from(decodeURIComponent(payload!), 'utf8').toString('base64');
  } catch {
    throw unsupported('The data URL is not valid: its percent-encoding is broken.', param);
  }
  return { inlineData: { mimeType: mimeType!, data } };
}

/** http(s) URLs are passed by reference; the MIME type is optional and only guessed from the path. */
function urlPart(url: string, param: string): GeminiPart {
  if (url.startsWith('data:')) return dataUrlPart(url, param);
  if (!/^https?:\/\//i.test(url)) throw unsupported('Image URLs must be http(s) URLs or data URLs.', param);
  let path: string;
  try {
    path = new URL(url).pathname;
  } catch {
    throw unsupported('The image URL is not a valid URL.', param);
  }
  const extension = /\.([a-z0-9]+)(?:[?#]|$)/i.exec(path)?.[1]?.toLowerCase();
  const mimeType = extension ? IMAGE_TYPES[extension] : undefined;
  return { fileData: { ...(mimeType ? { mimeType } : {}), fileUri: url } };
}

function contentParts(content: ChatMessage['content'], param: string): GeminiPart[] {
  if (content === undefined || content === null) return [];
  if (typeof content === 'string') return content.length > 0 ? [{ text: content }] : [];
  return content.flatMap((part: ContentPart, j): GeminiPart[] => {
    const at = `${param}[${j}]`;
    switch (part.type) {
      case 'text':
        return part.text.length > 0 ? [{ text: part.text }] : [];
      case 'refusal':
        return [{ text: part.refusal }];
      case 'image_url':
        return [urlPart(part.image_url.url, `${at}.image_url.url`)];
      case 'input_audio':
        return [{ inlineData: { mimeType: `audio/${part.input_audio.format}`, data: part.input_audio.data } }];
      case 'file': {
        const data = part.file.file_data;
        if (typeof data !== 'string') throw unsupported('Only files given inline as file_data (a data URL) can be sent to this model.', `${at}.file`);
        return [dataUrlPart(data, `${at}.file.file_data`)];
      }
      default:
        throw unsupported(`Content parts of type '${(part as { type: string }).type}' are not supported by this model.`, `${at}.type`);
    }
  });
}

function textOf(content: ChatMessage['content']): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (p.type === 'text' ? p.text : '')).join('');
}

/** Gemini wants the result as a JSON object: a JSON object is sent as it is, anything else under "output". */
function functionResponse(content: ChatMessage['content']): Record<string, unknown> {
  const text = textOf(content);
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
    return { output: parsed };
  } catch {
    return { output: text };
  }
}

function assistantParts(message: ChatMessage, i: number): GeminiPart[] {
  const parts = contentParts(message.content, `messages[${i}].content`);
  (message.tool_calls ?? []).forEach((call, j) => {
    const param = `messages[${i}].tool_calls[${j}]`;
    if (call.type !== 'function') throw unsupported('Custom tool calls are not supported by this model.', `${param}.type`);
    let args: unknown;
    try {
      args = call.function.arguments.trim() === '' ? {} : JSON.parse(call.function.arguments);
    } catch {
      throw unsupported('Tool call arguments must be valid JSON.', `${param}.function.arguments`);
    }
    if (args === null || typeof args !== 'object' || Array.isArray(args)) throw unsupported('Tool call arguments must be a JSON object.', `${param}.function.arguments`);
    // Gemini 3 validates the signature of each step's first call; history it did not write
    // (another model's, or an id a client rewrote) gets the documented skip marker instead.
    const signature = signatureOf(call.id) ?? (j === 0 ? SKIP_SIGNATURE : undefined);
    parts.push({ functionCall: { name: call.function.name, args: args as Record<string, unknown> }, ...(signature ? { thoughtSignature: signature } : {}) });
  });
  return parts;
}

interface Converted {
  system: GeminiPart[];
  contents: GeminiContent[];
}

function convertMessages(messages: ChatMessage[]): Converted {
  const system: GeminiPart[] = [];
  const turns: Array<{ role: 'user' | 'model'; parts: GeminiPart[] }> = [];
  const toolNames = new Map<string, string>();
  messages.forEach((message, i) => {
    switch (message.role) {
      case 'system':
      case 'developer':
        system.push(...contentParts(message.content, `messages[${i}].content`).filter((p) => 'text' in p));
        return;
      case 'user':
        turns.push({ role: 'user', parts: contentParts(message.content, `messages[${i}].content`) });
        return;
      case 'assistant':
        for (const call of message.tool_calls ?? []) if (call.type === 'function') toolNames.set(call.id, call.function.name);
        turns.push({ role: 'model', parts: assistantParts(message, i) });
        return;
      case 'tool': {
        const name = (message.tool_call_id && toolNames.get(message.tool_call_id)) || message.name;
        if (!name) throw unsupported(`No earlier assistant tool call has the id '${message.tool_call_id ?? ''}'.`, `messages[${i}].tool_call_id`);
        turns.push({ role: 'user', parts: [{ functionResponse: { name, response: functionResponse(message.content) } }] });
        return;
      }
      case 'function':
        if (!message.name) throw unsupported('A function message needs a name.', `messages[${i}].name`);
        turns.push({ role: 'user', parts: [{ functionResponse: { name: message.name, response: functionResponse(message.content) } }] });
        return;
    }
  });
  const contents: GeminiContent[] = [];
  for (const turn of turns) {
    if (turn.parts.length === 0) continue; // Gemini rejects a turn without parts
    const last = contents.at(-1);
    if (last?.role === turn.role) last.parts!.push(...turn.parts);
    else contents.push({ role: turn.role, parts: [...turn.parts] });
  }
  return { system, contents };
}

/** `$schema` names a dialect and constrains nothing; it is not among the keywords Gemini documents. */
function cleanSchema(schema: JsonSchema): Record<string, unknown> {
  const { $schema: _dialect, ...rest } = schema;
  return rest;
}

function declarations(request: ChatCompletionRequest): GeminiFunctionDeclaration[] {
  return (request.tools ?? []).map((tool, i) => {
    if (tool.type !== 'function') throw unsupported('Custom tools are not supported by this model.', `tools[${i}].type`);
    const { name, description, parameters } = tool.function;
    return { name, ...(description ? { description } : {}), ...(parameters ? { parametersJsonSchema: cleanSchema(parameters) } : {}) };
  });
}

function namesOf(tools: Array<Record<string, unknown>>): string[] {
  return tools.map((t) => (t.function as { name?: unknown } | undefined)?.name).filter((n): n is string => typeof n === 'string');
}

function toolConfig(choice: ToolChoice | undefined): GeminiRequest['toolConfig'] {
  if (choice === undefined || choice === 'auto') return undefined;
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  if (choice.type === 'function') return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.function.name] } };
  if (choice.type === 'allowed_tools') {
    const names = namesOf(choice.allowed_tools.tools);
    // Gemini restricts names only in ANY mode; "auto" over a subset is expressed by declaring only that subset.
    return choice.allowed_tools.mode === 'required'
      ? { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: names } }
      : { functionCallingConfig: { mode: 'AUTO' } };
  }
  throw unsupported('Custom tools are not supported by this model.', 'tool_choice');
}

function generationConfig(request: ChatCompletionRequest): GeminiGenerationConfig | undefined {
  const config: GeminiGenerationConfig = {};
  const max = request.max_completion_tokens ?? request.max_tokens;
  if (typeof max === 'number') config.maxOutputTokens = max;
  if (typeof request.temperature === 'number') config.temperature = request.temperature;
  if (typeof request.top_p === 'number') config.topP = request.top_p;
  if (typeof request.seed === 'number') config.seed = request.seed;
  if (typeof request.n === 'number' && request.n > 1) config.candidateCount = request.n;
  if (typeof request.presence_penalty === 'number') config.presencePenalty = request.presence_penalty;
  if (typeof request.frequency_penalty === 'number') config.frequencyPenalty = request.frequency_penalty;
  const stop = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (Array.isArray(stop) && stop.length > 0) config.stopSequences = stop;
  const format = request.response_format;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    // responseJsonSchema takes standard JSON Schema (additionalProperties, $ref, anyOf...);
    // responseSchema would need the OpenAPI subset and reject those keywords.
    config.responseMimeType = 'application/json';
    if (format.json_schema.schema) config.responseJsonSchema = cleanSchema(format.json_schema.schema);
  }
  return Object.keys(config).length > 0 ? config : undefined;
}

export function toGeminiRequest(request: ChatCompletionRequest): GeminiRequest {
  const { system, contents } = convertMessages(request.messages);
  // Gemini refuses a request without contents; an OpenAI prompt of system messages only is sent as the user's turn.
  const onlySystem = contents.length === 0 && system.length > 0;
  const body: GeminiRequest = { contents: onlySystem ? [{ role: 'user', parts: system }] : contents };
  if (system.length > 0 && !onlySystem) body.systemInstruction = { parts: system as Array<{ text: string }> };
  let tools = declarations(request);
  const choice = request.tool_choice;
  if (tools.length > 0) {
    if (typeof choice === 'object' && choice.type === 'allowed_tools' && choice.allowed_tools.mode !== 'required') {
      const allowed = new Set(namesOf(choice.allowed_tools.tools));
      tools = tools.filter((t) => allowed.has(t.name));
    }
    body.tools = [{ functionDeclarations: tools }];
    const config = toolConfig(choice);
    if (config) body.toolConfig = config;
  }
  const generation = generationConfig(request);
  if (generation && body.tools && generation.responseMimeType) {
    // Gemini 2.x refuses function calling together with a JSON response type; with tools, the
    // format is asked for in the system instruction instead (best effort, as for Anthropic).
    const schema = generation.responseJsonSchema ? ` matching this JSON schema: ${JSON.stringify(generation.responseJsonSchema)}` : '';
    delete generation.responseMimeType;
    delete generation.responseJsonSchema;
    const instruction = { text: `When you answer in text, answer with a single JSON object${schema}, and nothing else.` };
    body.systemInstruction = { parts: [...(body.systemInstruction?.parts ?? []), instruction] };
  }
  if (generation && Object.keys(generation).length > 0) body.generationConfig = generation;
  return body;
}
