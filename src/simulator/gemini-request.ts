// Validates a Gemini GenerateContentRequest the way the Generative Language API does (unknown
// field names rejected, ranges and oneofs checked, the same status and wording for the common
// mistakes) and normalises it into the engine's SimRequest.
import type { JsonSchema } from '../core/openai-types.js';
import { readContents, readSystemInstruction, normaliseFields } from './gemini-contents.js';
import { geminiErrors } from './gemini-errors.js';
import { jsonSchemaField, openApiSchemaToJsonSchema } from './gemini-schema.js';
import type { SimModel } from './models.js';
import { countPromptTokens } from './prompt-tokens.js';
import type { SimOutputFormat, SimRequest, SimTool, SimToolChoice } from './sim-request.js';

type Json = Record<string, unknown>;

const REQUEST_FIELDS = new Set([
  'model', 'contents', 'systemInstruction', 'tools', 'toolConfig', 'safetySettings', 'generationConfig', 'cachedContent', 'labels',
]);
const TOOL_FIELDS = new Set([
  'functionDeclarations', 'googleSearch', 'googleSearchRetrieval', 'codeExecution', 'urlContext', 'fileSearch', 'googleMaps', 'computerUse',
]);
const DECLARATION_FIELDS = new Set(['name', 'description', 'parameters', 'parametersJsonSchema', 'response', 'responseJsonSchema', 'behavior']);
const GENERATION_FIELDS = new Set([
  'stopSequences', 'responseMimeType', 'responseSchema', 'responseJsonSchema', 'responseModalities', 'candidateCount',
  'maxOutputTokens', 'temperature', 'topP', 'topK', 'seed', 'presencePenalty', 'frequencyPenalty', 'responseLogprobs',
  'logprobs', 'enableEnhancedCivicAnswers', 'speechConfig', 'thinkingConfig', 'imageConfig', 'mediaResolution',
]);
const MIME_TYPES = new Set(['text/plain', 'application/json', 'application/xml', 'application/yaml', 'text/x.enum']);
const FUNCTION_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,127}$/;
const MAX_STOP_SEQUENCES = 5;
const MAX_CANDIDATES = 8;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Google's JSON parser names the proto type of a value it cannot read. */
function badValue(at: string, protoType: string, value: unknown): Error {
  return geminiErrors.invalidArgument(`Invalid value at '${at}' (${protoType}), ${JSON.stringify(value)}`);
}

function optionalNumber(config: Json, name: string, at: string, integer: boolean): number | undefined {
  const value = config[name];
  if (value === undefined || value === null) return undefined;
  // int32 fields may also arrive as numeric strings (proto3 JSON allows it).
  const number = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number) || (integer && !Number.isInteger(number))) {
    throw badValue(at, integer ? 'TYPE_INT32' : 'TYPE_FLOAT', value);
  }
  return number;
}

function inRange(value: number | undefined, min: number, max: number, field: string): void {
  if (value !== undefined && (value < min || value > max)) {
    throw geminiErrors.fieldProblem(`generation_config.${field}`, `${field} must be in the range [${min}, ${max}]`);
  }
}

export interface GeminiGeneration {
  candidateCount: number;
  maxOutputTokens?: number;
  stop: string[];
  seed?: number;
  output: SimOutputFormat;
}

function parseGeneration(raw: unknown, model: SimModel): GeminiGeneration {
  if (raw === undefined || raw === null) return { candidateCount: 1, stop: [], output: { type: 'text' } };
  if (!isObject(raw)) throw badValue('generation_config', 'type.googleapis.com/google.ai.generativelanguage.v1beta.GenerationConfig', raw);
  const config = normaliseFields(raw, GENERATION_FIELDS, 'generation_config');
  const candidateCount = optionalNumber(config, 'candidateCount', 'generation_config.candidate_count', true) ?? 1;
  inRange(candidateCount, 1, MAX_CANDIDATES, 'candidate_count');
  const maxOutputTokens = optionalNumber(config, 'maxOutputTokens', 'generation_config.max_output_tokens', true);
  if (maxOutputTokens !== undefined && (maxOutputTokens < 1 || maxOutputTokens > model.max_output_tokens)) {
    throw geminiErrors.maxOutputTooLarge(maxOutputTokens, model.max_output_tokens);
  }
  inRange(optionalNumber(config, 'temperature', 'generation_config.temperature', false), 0, 2, 'temperature');
  inRange(optionalNumber(config, 'topP', 'generation_config.top_p', false), 0, 1, 'top_p');
  optionalNumber(config, 'topK', 'generation_config.top_k', true);
  const seed = optionalNumber(config, 'seed', 'generation_config.seed', true);

  const stops = config.stopSequences ?? [];
  if (!Array.isArray(stops) || !stops.every((s) => typeof s === 'string')) throw badValue('generation_config.stop_sequences', 'TYPE_STRING', stops);
  if (stops.length > MAX_STOP_SEQUENCES) {
    throw geminiErrors.fieldProblem('generation_config.stop_sequences', `stop_sequences must have at most ${MAX_STOP_SEQUENCES} elements`);
  }

  const mime = config.responseMimeType ?? 'text/plain';
  if (typeof mime !== 'string' || !MIME_TYPES.has(mime)) {
    throw geminiErrors.fieldProblem(
      'generation_config.response_mime_type',
      'allowed mimetypes are `text/plain`, `application/json`, `application/xml`, `application/yaml` and `text/x.enum`.',
    );
  }
  const hasSchema = config.responseSchema !== undefined && config.responseSchema !== null;
  const hasJsonSchema = config.responseJsonSchema !== undefined && config.responseJsonSchema !== null;
  if (hasSchema && hasJsonSchema) {
    throw geminiErrors.fieldProblem('generation_config', 'response_schema and response_json_schema cannot both be set.');
  }
  if ((hasSchema || hasJsonSchema) && mime !== 'application/json' && mime !== 'text/x.enum') {
    throw geminiErrors.fieldProblem('generation_config.response_mime_type', 'response_mime_type must be application/json or text/x.enum when a response schema is set.');
  }
  let output: SimOutputFormat = { type: 'text' };
  if (mime === 'application/json') {
    if (hasSchema) output = { type: 'json_schema', schema: openApiSchemaToJsonSchema(config.responseSchema, 'generation_config.response_schema') };
    else if (hasJsonSchema) output = { type: 'json_schema', schema: jsonSchemaField(config.responseJsonSchema, 'generation_config.response_json_schema') };
    else output = { type: 'json_object' };
  }
  return { candidateCount, maxOutputTokens, stop: stops, seed, output };
}

function parseTools(raw: unknown): SimTool[] {
  if (raw === undefined || raw === null) return [];
  const tools = Array.isArray(raw) ? raw : [raw];
  const declared: SimTool[] = [];
  tools.forEach((tool: unknown, i) => {
    const at = `tools[${i}]`;
    if (!isObject(tool)) throw badValue(at, 'type.googleapis.com/google.ai.generativelanguage.v1beta.Tool', tool);
    const fields = normaliseFields(tool, TOOL_FIELDS, at);
    const declarations = fields.functionDeclarations ?? [];
    if (!Array.isArray(declarations)) throw badValue(`${at}.function_declarations`, 'type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionDeclaration', declarations);
    declarations.forEach((item: unknown, j) => {
      const dat = `${at}.function_declarations[${j}]`;
      if (!isObject(item)) throw badValue(dat, 'type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionDeclaration', item);
      const declaration = normaliseFields(item, DECLARATION_FIELDS, dat);
      const name = declaration.name;
      if (typeof name !== 'string' || !FUNCTION_NAME.test(name)) {
        throw geminiErrors.invalidArgument(
          `* GenerateContentRequest.${dat}.name: Invalid function name. Must start with a letter or an underscore. Must be a-z, A-Z, 0-9, or contain underscores, dots, colons and dashes, with a maximum length of 128.\n`,
        );
      }
      const hasParameters = declaration.parameters !== undefined && declaration.parameters !== null;
      const hasJsonSchema = declaration.parametersJsonSchema !== undefined && declaration.parametersJsonSchema !== null;
      if (hasParameters && hasJsonSchema) {
        throw geminiErrors.invalidArgument(`* GenerateContentRequest.${dat}: parameters and parameters_json_schema are mutually exclusive.\n`);
      }
      let parameters: JsonSchema | undefined;
      if (hasParameters) parameters = openApiSchemaToJsonSchema(declaration.parameters, `${dat}.parameters`);
      else if (hasJsonSchema) parameters = jsonSchemaField(declaration.parametersJsonSchema, `${dat}.parameters_json_schema`);
      declared.push(parameters ? { name, parameters } : { name });
    });
  });
  return declared;
}

/** toolConfig.functionCallingConfig: AUTO, ANY (optionally limited to allowedFunctionNames) or NONE. */
function parseToolChoice(raw: unknown, tools: SimTool[]): { choice: SimToolChoice; tools: SimTool[] } {
  if (raw === undefined || raw === null) return { choice: 'auto', tools };
  if (!isObject(raw)) throw badValue('tool_config', 'type.googleapis.com/google.ai.generativelanguage.v1beta.ToolConfig', raw);
  const config = normaliseFields(raw, new Set(['functionCallingConfig', 'retrievalConfig']), 'tool_config');
  const calling = config.functionCallingConfig;
  if (calling === undefined || calling === null) return { choice: 'auto', tools };
  if (!isObject(calling)) throw badValue('tool_config.function_calling_config', 'type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig', calling);
  const fields = normaliseFields(calling, new Set(['mode', 'allowedFunctionNames']), 'tool_config.function_calling_config');
  const mode = fields.mode ?? 'AUTO';
  if (typeof mode !== 'string' || !['MODE_UNSPECIFIED', 'AUTO', 'ANY', 'NONE', 'VALIDATED'].includes(mode)) {
    throw badValue('tool_config.function_calling_config.mode', 'type.googleapis.com/google.ai.generativelanguage.v1beta.FunctionCallingConfig.Mode', mode);
  }
  const allowed = fields.allowedFunctionNames;
  if (allowed !== undefined && allowed !== null) {
    if (!Array.isArray(allowed) || !allowed.every((n) => typeof n === 'string')) throw badValue('tool_config.function_calling_config.allowed_function_names', 'TYPE_STRING', allowed);
    if (mode !== 'ANY' && mode !== 'VALIDATED') {
      throw geminiErrors.fieldProblem('tool_config.function_calling_config.allowed_function_names', 'allowed_function_names can only be set when mode is ANY or VALIDATED.');
    }
    const unknown = allowed.find((n) => !tools.some((t) => t.name === n));
    if (unknown !== undefined) throw geminiErrors.fieldProblem('tool_config.function_calling_config.allowed_function_names', `function "${unknown}" is not declared in tools.`);
  }
  if (mode === 'NONE') return { choice: 'none', tools };
  if (mode !== 'ANY') return { choice: 'auto', tools };
  const candidates = Array.isArray(allowed) && allowed.length > 0 ? tools.filter((t) => allowed.includes(t.name)) : tools;
  if (candidates.length === 1) return { choice: { name: candidates[0]!.name }, tools };
  return { choice: 'required', tools: candidates };
}

export interface ParsedGeminiRequest {
  sim: SimRequest;
}

/** `model` is the path's model id with any fault suffix already removed. */
export function parseGeminiRequest(body: Json, model: SimModel, answerTokens: number | undefined): ParsedGeminiRequest {
  const request = normaliseFields(body, REQUEST_FIELDS, '');
  const system = readSystemInstruction(request.systemInstruction, model);
  const messages = [...(system ? [system] : []), ...readContents(request.contents, model)];
  const declared = parseTools(request.tools);
  const { choice, tools } = parseToolChoice(request.toolConfig, declared);
  const generation = parseGeneration(request.generationConfig, model);

  const extras: string[] = [];
  if (declared.length > 0) extras.push(JSON.stringify(request.tools));
  if (generation.output.type === 'json_schema') extras.push(JSON.stringify(generation.output.schema));
  const promptTokens = countPromptTokens(messages, extras);
  if (promptTokens > model.context_length) throw geminiErrors.contextTooLong(promptTokens, model.context_length);
  return {
    sim: {
      model,
      messages,
      tools,
      toolChoice: choice,
      output: generation.output,
      n: generation.candidateCount,
      stop: generation.stop,
      maxTokens: generation.maxOutputTokens,
      seed: generation.seed,
      answerTokens,
      promptTokens,
    },
  };
}
