// Pins the simulator's Gemini wire format to reference bodies written from Google's documentation
// (test/fixtures/gemini/README.md says where each came from): every answer must have exactly the
// fixture's key paths and JSON types, over a real socket.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startSimulator, type RunningSimulator } from './index.js';

const FIXTURES = new URL('../../test/fixtures/gemini/', import.meta.url);
const KEY = 'sim-test-key';

let sim: RunningSimulator;
let base: string;

before(async () => {
  sim = await startSimulator({ pacing: 'instant', apiKey: KEY });
  base = sim.url.replace(/\/v1$/, '/v1beta/models');
});
after(async () => sim.close());

function fixture(name: string): string {
  return readFileSync(new URL(name, FIXTURES), 'utf8');
}

/** Key paths with their JSON types; arrays are collapsed, function arguments are opaque. */
function shape(value: unknown, path = '$', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    out.add(`${path}:array`);
    for (const item of value) shape(item, `${path}[]`, out);
  } else if (value !== null && typeof value === 'object') {
    out.add(`${path}:object`);
    if (path.endsWith('.args')) return out;
    for (const [key, item] of Object.entries(value)) shape(item, `${path}.${key}`, out);
  } else {
    out.add(`${path}:${value === null ? 'null' : typeof value}`);
  }
  return out;
}

function assertSameShape(actual: unknown, expected: unknown): void {
  assert.deepEqual([...shape(actual)].sort(), [...shape(expected)].sort());
}

/** The JSON of each `data:` event; Gemini separates events with CRLF CRLF. */
function sseEvents(text: string): unknown[] {
  return text
    .split('\r\n\r\n')
    .filter((block) => block.startsWith('data: '))
    .map((block) => JSON.parse(block.slice('data: '.length)) as unknown);
}

async function call(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${base}/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY, ...headers },
    body: JSON.stringify(body),
  });
}

const ask = { contents: [{ role: 'user', parts: [{ text: 'Write a cute story about cats.' }] }] };
const theaters = {
  contents: [{ role: 'user', parts: [{ text: 'Which theaters in Mountain View show the Barbie movie?' }] }],
  tools: [
    {
      functionDeclarations: [
        {
          name: 'find_theaters',
          description: 'find theaters based on location and optionally movie title',
          parameters: { type: 'OBJECT', properties: { location: { type: 'STRING' }, movie: { type: 'STRING' } }, required: ['location'] },
        },
      ],
    },
  ],
  toolConfig: { functionCallingConfig: { mode: 'ANY' } },
};

describe('answers have the shape of the reference bodies', () => {
  test('generateContent with text', async () => {
    const response = await call('sim-chat:generateContent', ask);
    assert.equal(response.status, 200);
    assertSameShape(await response.json(), JSON.parse(fixture('generate-content-text.json')));
  });

  test('generateContent with a function call', async () => {
    const response = await call('sim-chat:generateContent', theaters);
    assertSameShape(await response.json(), JSON.parse(fixture('generate-content-function-call.json')));
  });

  test('a blocked prompt', async () => {
    const response = await call('sim-chat:generateContent', ask, { 'x-sim-fault': 'refusal' });
    assert.equal(response.status, 200);
    assertSameShape(await response.json(), JSON.parse(fixture('generate-content-prompt-blocked.json')));
  });

  test('streamGenerateContent?alt=sse with text: middle events and the last one', async () => {
    const response = await call('sim-chat:streamGenerateContent?alt=sse', ask, { 'x-sim-tokens': '30' });
    assert.match(response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const text = await response.text();
    assert.ok(!text.includes('[DONE]'));
    const events = sseEvents(text);
    const expected = sseEvents(fixture('stream-text.sse'));
    assert.ok(events.length > 2);
    for (const event of events.slice(0, -1)) assertSameShape(event, expected[0]);
    assertSameShape(events.at(-1), expected.at(-1));
  });

  test('streamGenerateContent?alt=sse with a function call', async () => {
    const response = await call('sim-chat:streamGenerateContent?alt=sse', theaters);
    const events = sseEvents(await response.text());
    assert.equal(events.length, 1);
    assertSameShape(events[0], sseEvents(fixture('stream-function-call.sse'))[0]);
  });

  test('batchEmbedContents', async () => {
    const texts = ['first text', 'second text'];
    const response = await call('sim-embed:batchEmbedContents', {
      requests: texts.map((text) => ({ model: 'models/sim-embed', content: { parts: [{ text }] } })),
    });
    assertSameShape(await response.json(), JSON.parse(fixture('batch-embed-contents.json')));
  });
});

describe('errors have the shape and status of the reference bodies', () => {
  const cases: Array<{ name: string; file: string; status: number; path?: string; headers: Record<string, string> }> = [
    { name: '429 RESOURCE_EXHAUSTED', file: 'error-429-resource-exhausted.json', status: 429, headers: { 'x-sim-fault': '429:47' } },
    { name: '500 INTERNAL', file: 'error-500-internal.json', status: 500, headers: { 'x-sim-fault': '500' } },
    { name: '503 UNAVAILABLE', file: 'error-503-unavailable.json', status: 503, headers: { 'x-sim-fault': '503' } },
    { name: '400 API_KEY_INVALID', file: 'error-400-api-key-invalid.json', status: 400, headers: { 'x-goog-api-key': 'wrong' } },
    { name: '403 PERMISSION_DENIED', file: 'error-403-permission-denied.json', status: 403, headers: { 'x-goog-api-key': '' } },
    { name: '404 NOT_FOUND', file: 'error-404-not-found.json', status: 404, path: 'gemini-0-nonexistent:generateContent', headers: {} },
  ];
  for (const c of cases) {
    test(c.name, async () => {
      const response = await call(c.path ?? 'sim-chat:generateContent', ask, c.headers);
      assert.equal(response.status, c.status);
      const body = (await response.json()) as { error: { code: number } };
      assert.equal(body.error.code, c.status);
      assertSameShape(body, JSON.parse(fixture(c.file)));
    });
  }
});
