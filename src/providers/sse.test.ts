import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { SSEDecoder, type SSEEvent } from './sse.js';

const encoder = new TextEncoder();

function bytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Decodes `input` pushed as the given chunks, plus whatever `end()` gives. */
function decodeChunks(chunks: Uint8Array[]): SSEEvent[] {
  const decoder = new SSEDecoder();
  const events: SSEEvent[] = [];
  for (const chunk of chunks) events.push(...decoder.push(chunk));
  events.push(...decoder.end());
  return events;
}

function decode(text: string): SSEEvent[] {
  return decodeChunks([bytes(text)]);
}

/** Splits at the given byte offsets (unsorted, duplicates and out-of-range values allowed). */
function splitAt(all: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (all.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const p of points) {
    chunks.push(all.subarray(start, p)); // empty chunks on purpose: the decoder must accept them
    start = p;
  }
  chunks.push(all.subarray(start));
  return chunks;
}

function everyByte(all: Uint8Array): Uint8Array[] {
  return Array.from(all, (_, i) => all.subarray(i, i + 1));
}

function ev(data: string, event?: string, id?: string): SSEEvent {
  return { event, data, id };
}

test('LF-terminated OpenAI-style stream', () => {
  assert.deepEqual(decode('data: {"a":1}\n\ndata: {"a":2}\n\ndata: [DONE]\n\n'), [
    ev('{"a":1}'),
    ev('{"a":2}'),
    ev('[DONE]'),
  ]);
});

test('CRLF and bare CR terminators, mixed in one stream', () => {
  assert.deepEqual(decode('data: a\r\n\r\ndata: b\r\rdata: c\n\r\ndata: d\r\n\n'), [
    ev('a'),
    ev('b'),
    ev('c'),
    ev('d'),
  ]);
});

test('CR at the end of a chunk followed by LF in the next is one line break', () => {
  const decoder = new SSEDecoder();
  assert.deepEqual(decoder.push(bytes('data: a\r')), []);
  // The CR already ended the line; the LF must not count as a blank line that dispatches.
  assert.deepEqual(decoder.push(bytes('\ndata: b\r')), []);
  assert.deepEqual(decoder.push(bytes('\n\r')), [ev('a\nb')]);
  assert.deepEqual(decoder.push(bytes('\n')), []);
  assert.deepEqual(decoder.end(), []);
  assert.equal(decoder.endedMidEvent, false);
});

test('a pending CR survives a chunk that decodes to no text', () => {
  const decoder = new SSEDecoder();
  const e = bytes('é'); // two bytes
  assert.deepEqual(decoder.push(bytes('data: x\r')), []);
  assert.deepEqual(decoder.push(new Uint8Array(0)), []);
  assert.deepEqual(decoder.push(bytes('\n')), []);
  assert.deepEqual(decoder.push(bytes('data: ')), []);
  assert.deepEqual(decoder.push(e.subarray(0, 1)), []);
  assert.deepEqual(decoder.push(e.subarray(1)), []);
  assert.deepEqual(decoder.push(bytes('\n\n')), [ev('x\né')]);
});

test('comments and keep-alives are ignored, also between data lines', () => {
  assert.deepEqual(decode(': ping\n\n:\n\ndata: a\n: keep-alive\ndata: b\n\n: ping\n\n'), [ev('a\nb')]);
});

test('multi-line data is joined with LF; one leading space only is stripped', () => {
  assert.deepEqual(decode('data: line1\ndata:line2\ndata:  two spaces\ndata:\ndata\n\n'), [
    ev('line1\nline2\n two spaces\n\n'),
  ]);
});

test('event and id fields; id carries over, event does not', () => {
  const text =
    'event: message_start\nid: 1\ndata: {}\n\n' +
    'data: plain\n\n' +
    'event: ping\ndata: x\n\n' +
    'id:\nevent:\ndata: y\n\n';
  assert.deepEqual(decode(text), [
    ev('{}', 'message_start', '1'),
    ev('plain', undefined, '1'),
    ev('x', 'ping', '1'),
    ev('y', undefined, ''), // empty event = default type; empty id resets the id
  ]);
});

test('id with NUL is ignored; unknown fields and retry are ignored; colon in value kept', () => {
  assert.deepEqual(decode('id: 7\n\nid: a\0b\nretry: 100\nfoo: bar\ndata: x: y\n\n'), [ev('x: y', undefined, '7')]);
});

test('blocks without data are not dispatched, but their id still counts', () => {
  assert.deepEqual(decode('event: ping\n\nid: 3\n\n\n\ndata: a\n\n'), [ev('a', undefined, '3')]);
});

test('empty data is dispatched as an empty string', () => {
  assert.deepEqual(decode('data:\n\ndata: \n\ndata\n\n'), [ev(''), ev(''), ev('')]);
});

test('a leading BOM is stripped, even when split across chunks; a later one is data', () => {
  const all = bytes('\uFEFFdata: a\n\ndata: \uFEFFb\n\n');
  assert.deepEqual(decodeChunks([all]), [ev('a'), ev('\uFEFFb')]);
  assert.deepEqual(decodeChunks(everyByte(all)), [ev('a'), ev('\uFEFFb')]);
});

test('field names are case-sensitive and not trimmed', () => {
  assert.deepEqual(decode('Data: a\n data: b\ndata : c\n\ndata: ok\n\n'), [ev('ok')]);
});

test('a final event without the closing blank line is discarded', () => {
  const decoder = new SSEDecoder();
  assert.deepEqual(decoder.push(bytes('data: a\n\ndata: cut')), [ev('a')]);
  assert.deepEqual(decoder.end(), []);
  assert.equal(decoder.endedMidEvent, true);

  assert.deepEqual(decode('data: a\n\ndata: b\n'), [ev('a')]);
  const lineDone = new SSEDecoder();
  lineDone.push(bytes('data: b\n'));
  lineDone.end();
  assert.equal(lineDone.endedMidEvent, true);

  const clean = new SSEDecoder();
  clean.push(bytes('data: a\n\n: ping'));
  clean.end();
  assert.equal(clean.endedMidEvent, false, 'an unterminated comment is not an event');
});

test('the decoder is reusable after end()', () => {
  const decoder = new SSEDecoder();
  decoder.push(bytes('id: 1\ndata: half'));
  decoder.end();
  assert.deepEqual(decoder.push(bytes('\uFEFFdata: fresh\n\n')), [ev('fresh')]);
});

test('invalid UTF-8 becomes U+FFFD instead of throwing', () => {
  const prefix = bytes('data: ');
  const input = new Uint8Array([...prefix, 0xff, 0x61, 0xe4, 0xb8, 0x0a, 0x0a]);
  assert.deepEqual(decodeChunks([input]), [ev('\uFFFDa\uFFFD')]);
  assert.deepEqual(decodeChunks(everyByte(input)), [ev('\uFFFDa\uFFFD')]);
});

test('multi-byte characters split across chunks decode correctly', () => {
  const text = 'data: 中文 😀 é\n\n';
  assert.deepEqual(decodeChunks(everyByte(bytes(text))), [ev('中文 😀 é')]);
});

test('a long line arriving in many small chunks', () => {
  const payload = 'x'.repeat(100_000);
  const all = bytes(`data: ${payload}\n\n`);
  const chunks: Uint8Array[] = [];
  for (let i = 0; i < all.length; i += 97) chunks.push(all.subarray(i, i + 97));
  assert.deepEqual(decodeChunks(chunks), [ev(payload)]);
});

// --- properties -------------------------------------------------------------------------------

interface Spec {
  event: string | undefined;
  id: string | undefined;
  data: string[];
  comment: string | undefined;
}

const TERMINATORS = ['\n', '\r\n', '\r'] as const;

/** Field values: any text without line breaks, heavy on what could trip a decoder. */
const value = fc
  .oneof(
    fc.string({ unit: 'binary', maxLength: 20 }),
    fc.string({ unit: fc.constantFrom('a', ' ', ':', 'é', '中', '文', '😀', '👩‍💻', '\u{10FFFF}', '\uFEFF', '\0'), maxLength: 12 }),
  )
  .map((s) => s.replace(/[\r\n]/g, ''));

const spec: fc.Arbitrary<Spec> = fc.record({
  event: fc.option(value.map((s) => s.replace(/\0/g, '')), { nil: undefined }),
  id: fc.option(value.map((s) => s.replace(/\0/g, '')), { nil: undefined }),
  data: fc.array(value, { minLength: 1, maxLength: 4 }),
  comment: fc.option(value, { nil: undefined }),
});

interface Wire {
  text: string;
  expected: SSEEvent[];
}

/**
 * Serialises events with a chosen terminator per line (`style` is cycled through) and a comment
 * before a data line when asked, and computes what a spec-following reader must report.
 */
function serialise(specs: Spec[], style: number[], bom: boolean, tightColon: boolean[]): Wire {
  let text = bom ? '\uFEFF' : '';
  let n = 0;
  const eol = (blank = false): string => {
    const t: string = TERMINATORS[(style[n++ % Math.max(style.length, 1)] ?? 0) % 3] ?? '\n';
    // Only the blank line can directly follow another line end. After a CR, an LF would be read
    // as the rest of a CRLF (a writer can't emit two such lines either), so it becomes CRLF.
    return blank && t === '\n' && text.endsWith('\r') ? '\r\n' : t;
  };
  // "name:value" is only safe when the value doesn't start with the space the reader strips.
  const field = (name: string, v: string): string => {
    const tight = (tightColon[n % Math.max(tightColon.length, 1)] ?? false) && !v.startsWith(' ');
    return `${name}:${tight ? '' : ' '}${v}${eol()}`;
  };
  const expected: SSEEvent[] = [];
  let lastId: string | undefined;
  for (const s of specs) {
    if (s.event !== undefined) text += field('event', s.event);
    if (s.id !== undefined) {
      text += field('id', s.id);
      lastId = s.id;
    }
    s.data.forEach((d, i) => {
      if (i === s.data.length - 1 && s.comment !== undefined) text += `:${s.comment}${eol()}`;
      text += field('data', d);
    });
    text += eol(true);
    expected.push({ event: s.event === '' ? undefined : s.event, data: s.data.join('\n'), id: lastId });
  }
  return { text, expected };
}

const wire = fc
  .tuple(
    fc.array(spec, { maxLength: 8 }),
    fc.array(fc.nat(2), { minLength: 1, maxLength: 10 }),
    fc.boolean(),
    fc.array(fc.boolean(), { minLength: 1, maxLength: 5 }),
  )
  .map(([specs, style, bom, tight]) => serialise(specs, style, bom, tight));

test('property: any events, any line endings, any chunking decode to the originals', () => {
  fc.assert(
    fc.property(wire, fc.array(fc.nat(), { maxLength: 12 }), ({ text, expected }, cuts) => {
      assert.deepEqual(decodeChunks(splitAt(bytes(text), cuts)), expected);
    }),
    { numRuns: 1000 },
  );
});

test('property: one byte per chunk (every split inside a character and between CR and LF)', () => {
  fc.assert(
    fc.property(wire, ({ text, expected }) => {
      assert.deepEqual(decodeChunks(everyByte(bytes(text))), expected);
    }),
    { numRuns: 300 },
  );
});

test('property: every single split point of a small stream', () => {
  fc.assert(
    fc.property(wire, ({ text, expected }) => {
      const all = bytes(text);
      for (let cut = 0; cut <= all.length; cut++) {
        assert.deepEqual(decodeChunks([all.subarray(0, cut), all.subarray(cut)]), expected);
      }
    }),
    { numRuns: 100 },
  );
});

test('property: a stream cut anywhere never yields a partial event', () => {
  fc.assert(
    fc.property(wire, fc.nat(), ({ text, expected }, at) => {
      const all = bytes(text);
      const cut = at % (all.length + 1);
      const decoder = new SSEDecoder();
      const got = [...decoder.push(all.subarray(0, cut)), ...decoder.end()];
      // Whatever was dispatched must be a prefix of the full result: complete events only.
      assert.deepEqual(got, expected.slice(0, got.length));
    }),
    { numRuns: 500 },
  );
});
