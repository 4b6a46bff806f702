// The simulator's Anthropic front end against Anthropic's own documented examples
// (test/fixtures/anthropic/): every key path of a fixture must exist in the simulator's body with
// the same JSON type, and streams must follow the documented event order.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { request } from 'undici';
import { SSEDecoder } from '../src/providers/sse.js';
import { startSimulator, type RunningSimulator } from '../src/simulator/index.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const fixturePath = (name: string) => new URL(`./fixtures/anthropic/${name}`, import.meta.url);
const fixtureJson = (name: string) => JSON.parse(readFileSync(fixturePath(name), 'utf8')) as Json;
const fixtureEvents = (name: string) => sseEvents(readFileSync(fixturePath(name), 'utf8'));

/** Key paths whose contents are free-form (a tool's input follows the caller's schema). */
const FREE_FORM = new Set(['input']);

function kind(value: Json): string {
  return value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
}

/** Same shape: the fixture's keys exist with the same types; a fixture null also admits a string. */
function assertShape(fixture: Json, actual: Json, path = '$'): void {
  if (fixture === null) {
    assert.ok(actual === null || typeof actual === 'string', `${path}: expected null or a string, got ${kind(actual)}`);
    return;
  }
  assert.equal(kind(actual), kind(fixture), `${path}: type`);
  if (Array.isArray(fixture)) {
    // Blocks are matched by their `type`: the simulator's block of the same type must look alike.
    for (const [i, item] of fixture.entries()) {
      const type = item !== null && typeof item === 'object' && !Array.isArray(item) ? item.type : undefined;
      const twin = (actual as Json[]).find((a) => type === undefined || (a !== null && typeof a === 'object' && !Array.isArray(a) && a.type === type));
      assert.ok(twin !== undefined, `${path}[${i}]: no element of type ${String(type)}`);
      assertShape(item, twin, `${path}[${i}]`);
    }
    return;
  }
  if (typeof fixture === 'object') {
    const object = actual as { [key: string]: Json };
    for (const [key, value] of Object.entries(fixture)) {
      assert.ok(key in object, `${path}.${key}: missing`);
      if (!FREE_FORM.has(key)) assertShape(value, object[key]!, `${path}.${key}`);
    }
  }
}

interface Event {
  name: string | undefined;
  data: { [key: string]: Json };
}

function sseEvents(text: string): Event[] {
  return new SSEDecoder().push(Buffer.from(text)).map((e) => ({ name: e.event, data: JSON.parse(e.data) as { [key: string]: Json } }));
}

/** An event's type plus the kind of block or delta it carries, e.g. content_block_delta/input_json_delta. */
function variant(event: Event): string {
  const inner = (event.data.content_block ?? event.data.delta) as { type?: Json } | undefined;
  return ['content_block_start', 'content_block_delta'].includes(String(event.data.type)) ? `${String(event.data.type)}/${String(inner?.type)}` : String(event.data.type);
}

let sim: RunningSimulator;
let base: string;

before(async () => {
  sim = await startSimulator({ pacing: 'instant' });
  base = sim.url.replace(/\/v1$/, '');
});
after(async () => sim.close());

const weather = {
  name: 'get_weather',
  description: 'Get the current weather in a given location',
  input_schema: { type: 'object', properties: { location: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } }, required: ['location', 'unit'] },
};

async function messages(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await request(`${base}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...headers },
    body: JSON.stringify({ model: 'sim-chat', max_tokens: 256, messages: [{ role: 'user', content: 'Hello' }], ...body }),
  });
  return { status: res.statusCode, text: await res.body.text() };
}

/** The simulator's events must follow message_start, (block start, deltas, stop)*, message_delta, message_stop. */
function assertEventOrder(events: Event[]): void {
  const names = events.map((e) => e.data.type).filter((t) => t !== 'ping').join(' ');
  assert.match(names, /^message_start( content_block_start( content_block_delta)+ content_block_stop)* message_delta message_stop$/);
  for (const event of events) assert.equal(event.name, event.data.type, 'the event name repeats the data type');
}

describe('Anthropic wire shapes match the documented examples', () => {
  test('a text message', async () => {
    const reply = await messages({});
    assert.equal(reply.status, 200);
    assertShape(fixtureJson('message-text.json'), JSON.parse(reply.text) as Json);
  });

  test('a tool_use message', async () => {
    const reply = await messages({ tools: [weather], tool_choice: { type: 'any' } });
    const actual = JSON.parse(reply.text) as { [key: string]: Json };
    // The example also says a sentence first; the simulator answers with the tool call alone.
    const fixture = fixtureJson('message-tool-use.json') as { content: Array<{ type: string }> };
    assertShape({ ...fixture, content: fixture.content.filter((b) => b.type === 'tool_use') } as Json, actual);
    assert.equal(actual.stop_reason, 'tool_use');
  });

  const streams = [
    { name: 'stream-text.sse', body: {}, textless: false },
    // The example streams a sentence before the tool call; the simulator sends the tool call alone.
    { name: 'stream-tool-use.sse', body: { tools: [weather], tool_choice: { type: 'any' } }, textless: true },
  ];
  for (const { name, body, textless } of streams) {
    test(`a stream like ${name}: the same event order, and each kind of event shaped alike`, async () => {
      const reply = await messages({ ...body, stream: true });
      const actual = sseEvents(reply.text);
      assertEventOrder(actual);
      assertEventOrder(fixtureEvents(name));
      const byVariant = new Map(actual.map((e) => [variant(e), e]));
      for (const expected of fixtureEvents(name)) {
        if (textless && /\/text(_delta)?$/.test(variant(expected))) continue;
        const twin = byVariant.get(variant(expected));
        assert.ok(twin, `the simulator sends a ${variant(expected)} event`);
        assertShape(expected.data, twin.data, variant(expected));
      }
    });
  }

  test('the error envelope and the in-band error event', async () => {
    const notFound = await messages({ model: 'no-such-model' });
    assert.equal(notFound.status, 404);
    assertShape(fixtureJson('error-not-found.json'), JSON.parse(notFound.text) as Json);
    const broken = await messages({ stream: true }, { 'x-sim-fault': 'error-event:2' });
    const last = sseEvents(broken.text).at(-1)!;
    const expected = fixtureEvents('error-event.sse')[0]!;
    assert.equal(last.name, 'error');
    assert.deepEqual(last.data, expected.data, 'the overloaded event is the documented one');
  });
});
