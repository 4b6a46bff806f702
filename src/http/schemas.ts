// JSON Schemas for request bodies, compiled once by Fastify's Ajv. They check shape and types the
// way OpenAI does and leave unknown fields alone: OpenAI-compatible upstreams receive them as-is,
// which is how vendor extensions (top_k, repetition_penalty, provider routing) keep working.

const nullable = (schema: Record<string, unknown>): Record<string, unknown> => ({ anyOf: [schema, { type: 'null' }] });

const contentPart = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string', enum: ['text', 'image_url', 'input_audio', 'file', 'refusal'] },
    text: { type: 'string' },
    image_url: {
      type: 'object',
      required: ['url'],
      properties: { url: { type: 'string', minLength: 1 }, detail: { type: 'string', enum: ['auto', 'low', 'high'] } },
    },
  },
  allOf: [
    { if: { required: ['type'], properties: { type: { const: 'text' } } }, then: { required: ['text'] } },
    { if: { required: ['type'], properties: { type: { const: 'image_url' } } }, then: { required: ['image_url'] } },
  ],
};

const toolCall = {
  type: 'object',
  required: ['id', 'type'],
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: ['function', 'custom'] },
    function: {
      type: 'object',
      required: ['name', 'arguments'],
      properties: { name: { type: 'string' }, arguments: { type: 'string' } },
    },
    custom: { type: 'object', required: ['name', 'input'], properties: { name: { type: 'string' }, input: { type: 'string' } } },
  },
  allOf: [
    { if: { required: ['type'], properties: { type: { const: 'function' } } }, then: { required: ['function'] } },
    { if: { required: ['type'], properties: { type: { const: 'custom' } } }, then: { required: ['custom'] } },
  ],
};

const message = {
  type: 'object',
  required: ['role'],
  properties: {
    role: { type: 'string', enum: ['system', 'developer', 'user', 'assistant', 'tool', 'function'] },
    content: { anyOf: [{ type: 'string' }, { type: 'array', items: contentPart }, { type: 'null' }] },
    name: { type: 'string' },
    tool_calls: { type: 'array', items: toolCall },
    tool_call_id: { type: 'string' },
  },
  allOf: [
    { if: { required: ['role'], properties: { role: { const: 'tool' } } }, then: { required: ['tool_call_id', 'content'] } },
    { if: { required: ['role'], properties: { role: { enum: ['system', 'developer', 'user'] } } }, then: { required: ['content'] } },
  ],
};

const tool = {
  type: 'object',
  required: ['type'],
  allOf: [
    { if: { required: ['type'], properties: { type: { const: 'function' } } }, then: { required: ['function'] } },
    { if: { required: ['type'], properties: { type: { const: 'custom' } } }, then: { required: ['custom'] } },
  ],
  properties: {
    type: { type: 'string', enum: ['function', 'custom'] },
    custom: { type: 'object', required: ['name'], properties: { name: { type: 'string' }, description: { type: 'string' } } },
    function: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,64}$' },
        description: { type: 'string' },
        parameters: { type: 'object' },
        strict: nullable({ type: 'boolean' }),
      },
    },
  },
};

const responseFormat = {
  type: 'object',
  required: ['type'],
  properties: {
    type: { type: 'string', enum: ['text', 'json_object', 'json_schema'] },
    json_schema: {
      type: 'object',
      required: ['name'],
      properties: {
        name: { type: 'string', pattern: '^[a-zA-Z0-9_-]{1,64}$' },
        description: { type: 'string' },
        schema: { type: 'object' },
        strict: nullable({ type: 'boolean' }),
      },
    },
  },
  allOf: [{ if: { required: ['type'], properties: { type: { const: 'json_schema' } } }, then: { required: ['json_schema'] } }],
};

export function chatCompletionSchema(limits: { maxMessages: number }): Record<string, unknown> {
  return {
    type: 'object',
    required: ['model', 'messages'],
    properties: {
      model: { type: 'string', minLength: 1, maxLength: 256 },
      messages: { type: 'array', minItems: 1, maxItems: limits.maxMessages, items: message },
      stream: nullable({ type: 'boolean' }),
      stream_options: nullable({ type: 'object', properties: { include_usage: { type: 'boolean' } } }),
      tools: { type: 'array', maxItems: 128, items: tool },
      tool_choice: {
        anyOf: [
          { type: 'string', enum: ['none', 'auto', 'required'] },
          {
            type: 'object',
            required: ['type'],
            properties: {
              type: { type: 'string', enum: ['function', 'custom', 'allowed_tools'] },
              function: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
              custom: { type: 'object', required: ['name'], properties: { name: { type: 'string' } } },
              allowed_tools: { type: 'object', required: ['mode', 'tools'], properties: { mode: { type: 'string', enum: ['auto', 'required'] }, tools: { type: 'array' } } },
            },
            allOf: [
              { if: { required: ['type'], properties: { type: { const: 'function' } } }, then: { required: ['function'] } },
              { if: { required: ['type'], properties: { type: { const: 'custom' } } }, then: { required: ['custom'] } },
              { if: { required: ['type'], properties: { type: { const: 'allowed_tools' } } }, then: { required: ['allowed_tools'] } },
            ],
          },
        ],
      },
      parallel_tool_calls: { type: 'boolean' },
      response_format: responseFormat,
      n: nullable({ type: 'integer', minimum: 1, maximum: 128 }),
      stop: { anyOf: [{ type: 'string' }, { type: 'array', maxItems: 4, items: { type: 'string' } }, { type: 'null' }] },
      temperature: nullable({ type: 'number', minimum: 0, maximum: 2 }),
      top_p: nullable({ type: 'number', minimum: 0, maximum: 1 }),
      max_tokens: nullable({ type: 'integer', minimum: 1 }),
      max_completion_tokens: nullable({ type: 'integer', minimum: 1 }),
      presence_penalty: nullable({ type: 'number', minimum: -2, maximum: 2 }),
      frequency_penalty: nullable({ type: 'number', minimum: -2, maximum: 2 }),
      logit_bias: nullable({ type: 'object', additionalProperties: { type: 'number', minimum: -100, maximum: 100 } }),
      logprobs: nullable({ type: 'boolean' }),
      top_logprobs: nullable({ type: 'integer', minimum: 0, maximum: 20 }),
      seed: nullable({ type: 'integer' }),
      user: { type: 'string', maxLength: 512 },
      metadata: nullable({ type: 'object', maxProperties: 16, additionalProperties: { type: 'string', maxLength: 512 } }),
    },
  };
}

export function embeddingSchema(): Record<string, unknown> {
  return {
    type: 'object',
    required: ['model', 'input'],
    properties: {
      model: { type: 'string', minLength: 1, maxLength: 256 },
      input: {
        anyOf: [
          { type: 'string' },
          { type: 'array', minItems: 1, maxItems: 2048, items: { type: 'string' } },
          { type: 'array', minItems: 1, items: { type: 'integer' } },
          { type: 'array', minItems: 1, maxItems: 2048, items: { type: 'array', minItems: 1, items: { type: 'integer' } } },
        ],
      },
      encoding_format: { type: 'string', enum: ['float', 'base64'] },
      dimensions: { type: 'integer', minimum: 1 },
      user: { type: 'string', maxLength: 512 },
    },
  };
}
