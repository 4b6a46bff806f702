// The parts of a CreateResponse body that shape the answer: tools, tool_choice and text.format.
// Only function tools exist over chat completions; every hosted tool is refused by name.
import type { GatewayError } from '../core/errors.js';
import {
  arrayAt,
  invalidValue,
  isSet,
  listValues,
  missingParameter,
  objectAt,
  optionalBoolean,
  optionalEnum,
  optionalString,
  path,
  requiredString,
  unsupportedValue,
  type JsonObject,
} from './fields.js';
import type { FunctionToolParam, ResponseRequest, ResponseToolChoice, TextFormat } from './types.js';

// The same rule OpenAI applies to function and schema names.
const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

const HOSTED_TOOLS = new Set([
  'file_search', 'web_search', 'web_search_2025_08_26', 'web_search_preview', 'web_search_preview_2025_03_11',
  'computer', 'computer_use', 'computer_use_preview', 'mcp', 'code_interpreter', 'image_generation',
  'local_shell', 'shell', 'apply_patch', 'tool_search', 'programmatic_tool_calling',
]);

function hostedRefusal(param: string, type: string): GatewayError {
  return unsupportedValue(
    param,
    `The '${type}' tool is not supported by this gateway: it serves the Responses API over chat completions, which offer function tools only.`,
  );
}

export function parseTools(value: unknown): FunctionToolParam[] {
  if (value === undefined || value === null) return [];
  const tools = arrayAt(value, 'tools').map((raw, i) => parseTool(raw, path('tools', i)));
  const seen = new Set<string>();
  tools.forEach((tool, i) => {
    if (seen.has(tool.name)) throw invalidValue(path(path('tools', i), 'name'), `Duplicate function name '${tool.name}' in 'tools'.`);
    seen.add(tool.name);
  });
  return tools;
}

function parseTool(raw: unknown, param: string): FunctionToolParam {
  const tool = objectAt(raw, param);
  const type = requiredString(tool, 'type', path(param, 'type'));
  if (type === 'custom' || type === 'namespace') {
    throw unsupportedValue(path(param, 'type'), `Tools of type '${type}' are not supported by this gateway yet; declare a function tool instead.`);
  }
  if (HOSTED_TOOLS.has(type)) throw hostedRefusal(path(param, 'type'), type);
  if (type !== 'function') throw invalidValue(path(param, 'type'), `Invalid value: '${type}'. Supported values are: 'function'.`);
  const name = requiredString(tool, 'name', path(param, 'name'));
  if (!NAME.test(name)) {
    throw invalidValue(path(param, 'name'), `Invalid '${path(param, 'name')}': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$' of at most 64 characters.`);
  }
  const description = optionalString(tool, 'description', path(param, 'description'));
  const parameters = isSet(tool, 'parameters') ? objectAt(tool.parameters, path(param, 'parameters')) : undefined;
  const strict = optionalBoolean(tool, 'strict', path(param, 'strict'));
  return {
    type: 'function',
    name,
    ...(description !== undefined ? { description } : {}),
    ...(parameters !== undefined ? { parameters } : {}),
    ...(strict !== undefined ? { strict } : {}),
  };
}

export function parseToolChoice(value: unknown, tools: readonly FunctionToolParam[]): ResponseToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  const names = new Set(tools.map((t) => t.name));
  if (typeof value === 'string') {
    const modes = ['none', 'auto', 'required'] as const;
    const mode = modes.find((m) => m === value);
    if (!mode) throw invalidValue('tool_choice', `Invalid value: '${value}'. Supported values are: ${listValues(modes)}.`);
    if (mode === 'required' && tools.length === 0) throw invalidValue('tool_choice', "Tool choice 'required' needs at least one tool in 'tools'.");
    return mode;
  }
  const choice = objectAt(value, 'tool_choice');
  const type = requiredString(choice, 'type', 'tool_choice.type');
  if (type === 'function') return { type, name: knownTool(choice, 'tool_choice', names) };
  if (type === 'allowed_tools') {
    const mode = optionalEnum(choice, 'mode', 'tool_choice.mode', ['auto', 'required'] as const);
    if (mode === undefined) throw missingParameter('tool_choice.mode');
    const allowed = arrayAt(choice.tools, 'tool_choice.tools').map((raw, i) => {
      const param = path('tool_choice.tools', i);
      const entry = objectAt(raw, param);
      const entryType = requiredString(entry, 'type', path(param, 'type'));
      if (entryType !== 'function') throw hostedRefusal(path(param, 'type'), entryType);
      return { type: 'function' as const, name: knownTool(entry, param, names) };
    });
    return { type, mode, tools: allowed };
  }
  if (HOSTED_TOOLS.has(type) || type === 'mcp' || type === 'custom') throw hostedRefusal('tool_choice.type', type);
  throw invalidValue('tool_choice.type', `Invalid value: '${type}'. Supported values are: 'function' and 'allowed_tools'.`);
}

function knownTool(choice: JsonObject, param: string, names: ReadonlySet<string>): string {
  const name = requiredString(choice, 'name', path(param, 'name'));
  if (!names.has(name)) throw invalidValue(path(param, 'name'), `Tool choice '${name}' not found in 'tools' parameter.`);
  return name;
}

export function parseText(text: JsonObject): ResponseRequest['text'] {
  const verbosity = optionalEnum(text, 'verbosity', 'text.verbosity', ['low', 'medium', 'high'] as const);
  return {
    ...(isSet(text, 'format') ? { format: parseFormat(objectAt(text.format, 'text.format')) } : {}),
    ...(verbosity !== undefined ? { verbosity } : {}),
  };
}

function parseFormat(format: JsonObject): TextFormat {
  const type = optionalEnum(format, 'type', 'text.format.type', ['text', 'json_object', 'json_schema'] as const);
  if (type === undefined) throw missingParameter('text.format.type');
  if (type !== 'json_schema') return { type };
  const name = requiredString(format, 'name', 'text.format.name');
  if (!NAME.test(name)) {
    throw invalidValue('text.format.name', "Invalid 'text.format.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$' of at most 64 characters.");
  }
  if (!isSet(format, 'schema')) throw missingParameter('text.format.schema');
  const schema = objectAt(format.schema, 'text.format.schema');
  const description = optionalString(format, 'description', 'text.format.description');
  const strict = optionalBoolean(format, 'strict', 'text.format.strict');
  return {
    type,
    name,
    schema,
    ...(description !== undefined ? { description } : {}),
    ...(strict !== undefined ? { strict } : {}),
  };
}
