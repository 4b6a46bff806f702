// The Conversations and Responses APIs through the official openai SDK, against a real gateway
// over the simulator, with storage in embedded PGlite. Every body is checked against OpenAI's spec.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import OpenAI from 'openai';
import { assertMatchesSchema } from './support/openapi.js';
import { startStack, type Stack } from './support/stack.js';

let stack: Stack;
let alice: OpenAI;
let bob: OpenAI;

async function sessionClient(): Promise<OpenAI> {
  const res = await fetch(`${stack.baseURL}/sessions`, { method: 'POST' });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { object: string; token: string; expires_at: number };
  assert.equal(body.object, 'session');
  assert.ok(body.expires_at > Date.now() / 1000);
  return new OpenAI({ baseURL: stack.baseURL, apiKey: body.token, maxRetries: 0 });
}

/** What the user and assistant said, in order, as text. */
function transcript(items: ReadonlyArray<Record<string, unknown>>): string[] {
  return items
    .filter((item) => item.type === 'message')
    .map((item) => {
      const parts = item.content as Array<{ type: string; text?: string }>;
      return `${String(item.role)}: ${parts.map((p) => p.text ?? '').join('')}`;
    });
}

before(async () => {
  stack = await startStack();
  alice = await sessionClient();
  bob = await sessionClient();
});
after(async () => stack?.close());

describe('a multi-turn chat through a conversation', () => {
  it('keeps every turn, streamed or not, in order', async () => {
    const conversation = await alice.conversations.create({ metadata: { topic: 'demo' }, items: [{ type: 'message', role: 'user', content: 'Remember the number 7.' }] });
    assertMatchesSchema('ConversationResource', conversation);
    assert.match(conversation.id, /^conv_/);
    assert.deepEqual(conversation.metadata, { topic: 'demo' });

    const first = await alice.responses.create({ model: 'sim-chat', conversation: conversation.id, input: 'What number did I mention?' });
    assertMatchesSchema('Response', first);
    assert.deepEqual(first.conversation, { id: conversation.id });
    assert.equal(first.status, 'completed');
    assert.ok(first.output_text.length > 0);

    const stream = await alice.responses.create({ model: 'sim-chat', conversation: conversation.id, input: 'And now say it twice.', stream: true });
    const types: string[] = [];
    let completed: OpenAI.Responses.Response | undefined;
    for await (const event of stream) {
      assertMatchesSchema('ResponseStreamEvent', event);
      types.push(event.type);
      if (event.type === 'response.completed') completed = event.response;
    }
    assert.equal(types[0], 'response.created');
    assert.ok(types.includes('response.output_text.delta'));
    assert.equal(types.at(-1), 'response.completed');
    assert.ok(completed);

    const third = await alice.responses.create({ model: 'sim-chat', conversation: { id: conversation.id }, input: [{ role: 'user', content: [{ type: 'input_text', text: 'Thanks!' }] }] });
    // The server supplied the history: the last prompt holds every earlier turn.
    assert.ok(third.usage!.input_tokens > first.usage!.input_tokens + first.usage!.output_tokens + completed.usage!.output_tokens);

    const items = [];
    for await (const item of alice.conversations.items.list(conversation.id, { order: 'asc', limit: 2 })) items.push(item);
    const lines = transcript(items as unknown as Array<Record<string, unknown>>);
    assert.deepEqual(lines, [
      'user: Remember the number 7.',
      'user: What number did I mention?',
      `assistant: ${first.output_text}`,
      'user: And now say it twice.',
      `assistant: ${completed.output_text ?? (completed.output[0] as { content: Array<{ text: string }> }).content[0]!.text}`,
      'user: Thanks!',
      `assistant: ${third.output_text}`,
    ]);
    // The output items keep the ids the responses gave them.
    assert.equal(items[2]!.id, first.output[0]!.id);

    const raw = await fetch(`${stack.baseURL}/conversations/${conversation.id}/items?limit=3`, { headers: { authorization: `Bearer ${alice.apiKey}` } });
    const page = (await raw.json()) as { data: Array<{ id: string }>; has_more: boolean };
    assertMatchesSchema('ConversationItemList', page);
    assert.equal(page.has_more, true);
    assert.deepEqual(page.data.map((i) => i.id), items.slice(-3).reverse().map((i) => i.id), 'the default order is newest first');
  });

  it('sees the same turns through previous_response_id', async () => {
    const first = await alice.responses.create({ model: 'sim-chat', input: 'Hello there.', instructions: 'Be brief.' });
    const second = await alice.responses.create({ model: 'sim-chat', previous_response_id: first.id, input: 'Go on.' });
    const third = await alice.responses.create({ model: 'sim-chat', previous_response_id: second.id, input: 'Once more.', stream: false });
    assert.equal(third.previous_response_id, second.id);

    const stored = await alice.responses.retrieve(third.id);
    assertMatchesSchema('Response', stored);
    assert.equal(stored.id, third.id);
    assert.equal(stored.output_text, third.output_text);

    const inputs = await alice.responses.inputItems.list(third.id);
    assertMatchesSchema('ResponseItemList', { object: 'list', data: inputs.data, first_id: inputs.data[0]!.id, last_id: inputs.data.at(-1)!.id, has_more: inputs.has_more });
    assert.deepEqual(transcript(inputs.data as unknown as Array<Record<string, unknown>>), ['user: Once more.']);
    // Each turn carried the whole chain upstream: the prompt grew by at least the previous answer.
    assert.ok(second.usage!.input_tokens > first.usage!.input_tokens + first.usage!.output_tokens);
    assert.ok(third.usage!.input_tokens > second.usage!.input_tokens + second.usage!.output_tokens);
  });

  it('lists the caller\'s conversations newest first, without their items', async () => {
    const a = await alice.conversations.create({ metadata: { n: '1' } });
    const b = await alice.conversations.create({ metadata: { n: '2' } });
    const res = await fetch(`${stack.baseURL}/conversations?limit=2`, { headers: { authorization: `Bearer ${alice.apiKey}` } });
    const body = (await res.json()) as { object: string; data: Array<{ id: string; object: string }>; has_more: boolean; last_id: string };
    assert.equal(body.object, 'list');
    assert.deepEqual(body.data.map((c) => c.id), [b.id, a.id]);
    assert.ok(body.data.every((c) => c.object === 'conversation' && !('items' in c)));
    const next = await fetch(`${stack.baseURL}/conversations?limit=100&after=${body.last_id}`, { headers: { authorization: `Bearer ${alice.apiKey}` } });
    const rest = (await next.json()) as { data: Array<{ id: string }> };
    assert.ok(!rest.data.some((c) => c.id === a.id || c.id === b.id));
  });
});

describe('conversation items and metadata', () => {
  it('updates metadata, adds, retrieves and deletes items, then deletes the conversation', async () => {
    const conversation = await alice.conversations.create({});
    const updated = await alice.conversations.update(conversation.id, { metadata: { title: 'renamed' } });
    assert.deepEqual(updated.metadata, { title: 'renamed' });
    assert.deepEqual((await alice.conversations.retrieve(conversation.id)).metadata, { title: 'renamed' });

    const added = await alice.conversations.items.create(conversation.id, {
      items: [{ type: 'message', role: 'user', content: 'one' }, { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'two' }] }],
    });
    assert.equal(added.data.length, 2);
    const item = await alice.conversations.items.retrieve(added.data[0]!.id!, { conversation_id: conversation.id });
    assertMatchesSchema('ConversationItem', item);
    const afterDelete = await alice.conversations.items.delete(added.data[0]!.id!, { conversation_id: conversation.id });
    assert.equal(afterDelete.id, conversation.id);
    const left = await alice.conversations.items.list(conversation.id);
    assert.deepEqual(left.data.map((i) => i.id), [added.data[1]!.id]);

    const deleted = await alice.conversations.delete(conversation.id);
    assertMatchesSchema('DeletedConversationResource', deleted);
    await assert.rejects(alice.conversations.retrieve(conversation.id), (e: unknown) => e instanceof OpenAI.NotFoundError);
  });

  it('refuses bad input with OpenAI\'s envelope and a param', async () => {
    const conversation = await alice.conversations.create({});
    await assert.rejects(
      alice.conversations.items.create(conversation.id, { items: Array.from({ length: 21 }, () => ({ type: 'message' as const, role: 'user' as const, content: 'x' })) }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'items',
    );
    await assert.rejects(
      alice.conversations.update(conversation.id, { metadata: { ['k'.repeat(65)]: 'v' } }),
      (e: unknown) => e instanceof OpenAI.BadRequestError && /64/.test(e.message),
    );
    await assert.rejects(alice.conversations.items.list(conversation.id, { limit: 1001 }), (e: unknown) => e instanceof OpenAI.BadRequestError && e.param === 'limit');
    await assert.rejects(
      alice.responses.create({ model: 'sim-chat', input: 'x', conversation: conversation.id, previous_response_id: 'resp_1' }),
      (e: unknown) => e instanceof OpenAI.BadRequestError,
    );
  });
});

describe('ownership', () => {
  it('keeps one caller\'s conversations and responses out of another\'s reach', async () => {
    const conversation = await alice.conversations.create({ items: [{ type: 'message', role: 'user', content: 'secret' }] });
    const response = await alice.responses.create({ model: 'sim-chat', input: 'private' });
    const notFound = (e: unknown) => e instanceof OpenAI.NotFoundError;
    await assert.rejects(bob.conversations.retrieve(conversation.id), notFound);
    await assert.rejects(bob.conversations.items.list(conversation.id), notFound);
    await assert.rejects(bob.conversations.update(conversation.id, { metadata: { owned: 'bob' } }), notFound);
    await assert.rejects(bob.conversations.delete(conversation.id), notFound);
    await assert.rejects(bob.conversations.items.create(conversation.id, { items: [{ type: 'message', role: 'user', content: 'hi' }] }), notFound);
    await assert.rejects(bob.responses.create({ model: 'sim-chat', conversation: conversation.id, input: 'x' }), notFound);
    await assert.rejects(bob.responses.retrieve(response.id), notFound);
    await assert.rejects(bob.responses.delete(response.id), notFound);
    await assert.rejects(bob.responses.inputItems.list(response.id), notFound);
    await assert.rejects(bob.responses.create({ model: 'sim-chat', previous_response_id: response.id, input: 'x' }), notFound);
    const bobsList = await fetch(`${stack.baseURL}/conversations`, { headers: { authorization: `Bearer ${bob.apiKey}` } });
    assert.ok(!((await bobsList.json()) as { data: Array<{ id: string }> }).data.some((c) => c.id === conversation.id));
    // Alice still has everything, untouched.
    assert.deepEqual((await alice.conversations.retrieve(conversation.id)).metadata, {});
    assert.equal((await alice.conversations.items.list(conversation.id)).data.length, 1);
    assert.equal((await alice.responses.retrieve(response.id)).id, response.id);
  });

  it('asks anonymous callers for a session, and refuses forged tokens', async () => {
    const anonymous = new OpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous', maxRetries: 0 });
    await assert.rejects(anonymous.conversations.create({}), (e: unknown) => e instanceof OpenAI.AuthenticationError && /POST \/v1\/sessions/.test(e.message));
    const forged = new OpenAI({ baseURL: stack.baseURL, apiKey: `fgs_${'0'.repeat(32)}.9999999999.${'A'.repeat(43)}`, maxRetries: 0 });
    await assert.rejects(forged.conversations.create({}), (e: unknown) => e instanceof OpenAI.AuthenticationError);
    // ...but a stale token never locks its holder out of getting a new one, or out of health checks.
    for (const path of ['/v1/sessions', '/healthz']) {
      const res = await fetch(`${stack.gateway.url}${path}`, { method: path === '/v1/sessions' ? 'POST' : 'GET', headers: { authorization: `Bearer ${forged.apiKey}` } });
      assert.equal(res.status, 200, path);
    }
    // A NUL in an id is refused before it reaches the database.
    const nul = await fetch(`${stack.baseURL}/conversations/conv_%00x`, { headers: { authorization: `Bearer ${alice.apiKey}` } });
    assert.equal(nul.status, 400);
    assert.equal(((await nul.json()) as { error: { type: string } }).error.type, 'invalid_request_error');
    // A one-off response needs no identity; it is not stored, and says so.
    const once = await anonymous.responses.create({ model: 'sim-chat', input: 'hello' });
    assert.equal((once as unknown as { store: boolean }).store, false);
    assert.equal(once.status, 'completed');
  });
});

describe('context fitting', () => {
  it('drops the oldest turns whole to fit a small model, and says so', async () => {
    const long = 'lorem ipsum dolor sit amet '.repeat(120); // ~700 tokens a turn
    const conversation = await alice.conversations.create({
      items: Array.from({ length: 12 }, (_, i) => ({ type: 'message' as const, role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), content: `${i} ${long}` })),
    });
    const { data, response } = await alice.responses
      .create({ model: 'sim-small', conversation: conversation.id, input: 'Summarise.', max_output_tokens: 200 })
      .withResponse();
    assert.equal(data.status, 'completed');
    assert.equal(data.truncation, 'auto');
    const dropped = Number(response.headers.get('x-floodgate-context-dropped'));
    assert.ok(dropped >= 2 && dropped % 2 === 0, `whole turns dropped, got ${dropped}`);
    assert.equal(response.headers.get('x-floodgate-model'), 'sim-small');

    // With truncation disabled nothing is dropped: the prompt goes to a bigger model instead.
    const { response: rerouted } = await alice.responses
      .create({ model: 'sim-small', conversation: conversation.id, input: 'Summarise.', truncation: 'disabled', max_output_tokens: 200 })
      .withResponse();
    assert.equal(rerouted.headers.get('x-floodgate-context-dropped'), null);
    assert.equal(rerouted.headers.get('x-floodgate-rerouted'), 'context');
  });
});

describe('the Vercel AI SDK over the Responses API', () => {
  it('generates and streams text, and calls tools, with provider.responses()', async () => {
    const { createOpenAI } = await import('@ai-sdk/openai');
    const { generateText, streamText, tool, jsonSchema } = await import('ai');
    const provider = createOpenAI({ baseURL: stack.baseURL, apiKey: 'anonymous' });

    const generated = await generateText({ model: provider.responses('sim-chat'), prompt: 'hello', maxRetries: 0 });
    assert.ok(generated.text.length > 0);
    assert.equal(generated.finishReason, 'stop');
    assert.ok((generated.usage.inputTokens ?? 0) > 0);

    const streamed = streamText({ model: provider.responses('sim-chat'), prompt: 'hello again', maxRetries: 0 });
    let text = '';
    for await (const delta of streamed.textStream) text += delta;
    assert.ok(text.length > 0);
    assert.equal(await streamed.finishReason, 'stop');

    const called = await generateText({
      model: provider.responses('sim-chat'),
      prompt: 'What is the weather in Paris?',
      tools: { weather: tool({ description: 'Weather in a city', inputSchema: jsonSchema<{ city: string }>({ type: 'object', properties: { city: { type: 'string' } }, required: ['city'] }) }) },
      toolChoice: 'required',
      maxRetries: 0,
    });
    assert.equal(called.toolCalls.length >= 1, true);
    assert.equal(called.toolCalls[0]!.toolName, 'weather');
    assert.equal(typeof (called.toolCalls[0]!.input as { city: unknown }).city, 'string');
  });
});

describe('request bodies against the spec', () => {
  const post = (path: string, body: unknown) =>
    fetch(`${stack.baseURL}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.apiKey}` }, body: JSON.stringify(body) });

  it('accepts what OpenAI\'s schema accepts and refuses what it refuses, with a 400 naming the param', async () => {
    const { schemaValidator } = await import('./support/openapi.js');
    const valid = schemaValidator('CreateResponse');
    const accepted = [
      { model: 'sim-chat', input: 'hi' },
      { model: 'sim-chat', input: [{ role: 'user', content: 'hi' }], instructions: 'Be terse.', temperature: 0.2, max_output_tokens: 50, metadata: { a: 'b' } },
      // (A typed message item with content parts matches two of the spec's oneOf branches at once,
      // which strict oneOf refuses: the quirk is the spec's; the SDK tests above send that form.)
      { model: 'sim-chat', input: 'give me json', text: { format: { type: 'json_object' } } },
      { model: 'sim-chat', input: 'weather?', tools: [{ type: 'function', name: 'weather', parameters: { type: 'object', properties: {} }, strict: false }], tool_choice: 'auto' },
    ];
    for (const body of accepted) {
      assert.ok(valid(body), `the spec accepts ${JSON.stringify(body)}`);
      const res = await post('/responses', body);
      assert.equal(res.status, 200, `${JSON.stringify(body)} -> ${await res.clone().text()}`);
      assertMatchesSchema('Response', await res.json());
    }
    const refused: Array<[unknown, string]> = [
      [{ model: 'sim-chat', input: 5 }, 'input'],
      [{ model: 'sim-chat', input: 'hi', temperature: 3 }, 'temperature'],
      [{ model: 'sim-chat', input: 'hi', metadata: { a: 1 } }, 'metadata.a'],
      [{ model: 'sim-chat', input: [{ role: 'robot', content: 'hi' }] }, 'input[0].role'],
      [{ model: 'sim-chat', input: 'hi', max_output_tokens: 'many' }, 'max_output_tokens'],
    ];
    // Refusals found further down the pipeline name the Responses parameter, not chat's.
    const schemaFormat = { type: 'json_schema', name: 'x', schema: { type: 'object', properties: { a: { type: 'string' } }, required: ['a'], additionalProperties: false }, strict: true };
    const unsupported = await post('/responses', { model: 'sim-chat', input: 'json please', text: { format: schemaFormat } });
    assert.equal(unsupported.status, 400);
    assert.equal(((await unsupported.json()) as { error: { param: string } }).error.param, 'text.format');
    for (const [body, param] of refused) {
      assert.ok(!valid(body), `the spec refuses ${JSON.stringify(body)}`);
      const res = await post('/responses', body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const error = ((await res.json()) as { error: { param: string; type: string } }).error;
      assert.deepEqual([error.type, error.param], ['invalid_request_error', param]);
    }
  });

  it('creates conversations from bodies the spec accepts and refuses the rest', async () => {
    const { schemaValidator } = await import('./support/openapi.js');
    const valid = schemaValidator('CreateConversationBody');
    for (const body of [{}, { metadata: null, items: null }, { items: [{ type: 'message', role: 'user', content: 'hi' }] }]) {
      assert.ok(valid(body));
      const res = await post('/conversations', body);
      assert.equal(res.status, 200);
      assertMatchesSchema('ConversationResource', await res.json());
    }
    const tooMany = { items: Array.from({ length: 21 }, () => ({ type: 'message', role: 'user', content: 'x' })) };
    assert.ok(!valid(tooMany));
    assert.equal((await post('/conversations', tooMany)).status, 400);
  });
});
