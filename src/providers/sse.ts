// Incremental Server-Sent Events parser for upstream LLM streams (OpenAI `data:` streams,
// Anthropic's `event:`-typed streams). It follows the WHATWG HTML "event stream interpretation"
// rules, so any compliant upstream is read exactly as a browser's EventSource would read it,
// however the network happens to split the bytes.
//
// Hot path: the gateway parses on the order of 100k events/s, so lines are found with indexOf
// (never char by char), strings are sliced rather than built up, and a chunk that carries no line
// break is appended to the leftover buffer without being rescanned.

/** One dispatched event. */
export interface SSEEvent {
  /**
   * The `event:` field of this event; `undefined` when it had none. An empty `event:` value is
   * also reported as `undefined`, because the spec gives it the same meaning as no field at all
   * (the default "message" type), and callers should have one case to check, not two.
   */
  event: string | undefined;
  /** The event's `data:` lines joined with '\n' (one data line with an empty value gives ''). */
  data: string;
  /**
   * The last event ID, as the spec defines it: the most recent `id:` field seen in the stream,
   * which carries over to later events that have no `id:` of their own (that is what a client
   * would send as Last-Event-ID to resume). `undefined` until the stream has sent any `id:`.
   */
  id: string | undefined;
}

const LF = 0x0a;
const COLON = 0x3a;
const SPACE = 0x20;

/**
 * Turns byte chunks into events. Feed every chunk to `push` in order and call `end` once the body
 * is finished; each call returns the events completed by it.
 */
export class SSEDecoder {
  // Not fatal, so a broken upstream byte becomes U+FFFD instead of killing the stream; `stream:
  // true` holds back a multi-byte character split across chunks until its last byte arrives.
  // ignoreBOM is false, so the decoder itself drops the one leading U+FEFF the spec allows.
  private decoder = new TextDecoder('utf-8');
  /** Text after the last line break seen: the start of a line whose terminator hasn't arrived. */
  private partial = '';
  /** The previous text ended in CR; if the next starts with LF, that LF belongs to the same CRLF. */
  private skipLeadingLF = false;
  private data = '';
  private hasData = false;
  private eventType: string | undefined = undefined;
  private lastEventId: string | undefined = undefined;
  /** A non-comment line has been seen since the last blank line. */
  private inEvent = false;
  private truncated = false;

  /**
   * Whether the last `end()` threw away an unfinished event (fields, or an unterminated line,
   * without the closing blank line). The spec's discard is silent; a gateway wants to know,
   * e.g. to log that the upstream cut the stream mid-event.
   */
  get endedMidEvent(): boolean {
    return this.truncated;
  }

  push(bytes: Uint8Array): SSEEvent[] {
    const events: SSEEvent[] = [];
    this.feed(this.decoder.decode(bytes, { stream: true }), events);
    return events;
  }

  /**
   * Flushes at end of body and resets the decoder for reuse. An event that never got its closing
   * blank line is discarded, as the spec requires, rather than dispatched: for an LLM stream a
   * connection cut mid-event must not be mistaken for a complete one (a half-received final
   * chunk dispatched as if whole would look like a normal end of output). `endedMidEvent` says
   * whether that happened.
   */
  end(): SSEEvent[] {
    const events: SSEEvent[] = [];
    // Flushing can only yield U+FFFD for a truncated trailing character, never a line break, so
    // in practice nothing is dispatched here; it is still fed so the tail counts as pending text.
    this.feed(this.decoder.decode(), events);
    this.truncated =
      this.inEvent || (this.partial.length > 0 && this.partial.charCodeAt(0) !== COLON);
    this.decoder = new TextDecoder('utf-8');
    this.partial = '';
    this.skipLeadingLF = false;
    this.resetEvent();
    this.lastEventId = undefined;
    return events;
  }

  private feed(text: string, events: SSEEvent[]): void {
    const len = text.length;
    // An empty decode (e.g. a chunk holding only the first byte of a character) must not clear
    // skipLeadingLF: the LF of a split CRLF may still be on its way.
    if (len === 0) return;
    let pos = 0;
    if (this.skipLeadingLF) {
      this.skipLeadingLF = false;
      if (text.charCodeAt(0) === LF) pos = 1;
    }
    // Positions of the next LF and CR are cached and only searched again once passed, so a text
    // that uses just one kind of terminator is scanned once, not once per line.
    let nextLF = text.indexOf('\n', pos);
    let nextCR = text.indexOf('\r', pos);
    for (;;) {
      if (nextLF !== -1 && nextLF < pos) nextLF = text.indexOf('\n', pos);
      if (nextCR !== -1 && nextCR < pos) nextCR = text.indexOf('\r', pos);
      let lineEnd: number;
      if (nextLF === -1) {
        if (nextCR === -1) break;
        lineEnd = nextCR;
      } else {
        lineEnd = nextCR === -1 || nextLF < nextCR ? nextLF : nextCR;
      }
      let line = text.slice(pos, lineEnd);
      if (this.partial.length > 0) {
        line = this.partial + line;
        this.partial = '';
      }
      pos = lineEnd + 1;
      if (lineEnd === nextCR) {
        // A CR ends the line at once (waiting for a possible LF would delay dispatch); an LF that
        // follows, here or at the start of the next text, is then skipped as part of CRLF.
        if (pos === len) this.skipLeadingLF = true;
        else if (text.charCodeAt(pos) === LF) pos++;
      }
      this.processLine(line, events);
    }
    if (pos < len) this.partial = this.partial.length > 0 ? this.partial + text.slice(pos) : text.slice(pos);
  }

  private processLine(line: string, events: SSEEvent[]): void {
    if (line.length === 0) {
      this.dispatch(events);
      return;
    }
    if (line.charCodeAt(0) === COLON) return; // comment, e.g. a `: ping` keep-alive
    this.inEvent = true;
    const colon = line.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      // The spec reads a line without a colon as a field name with an empty value.
      field = line;
      value = '';
    } else {
      field = line.slice(0, colon);
      const start = line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1;
      value = line.slice(start);
    }
    switch (field) {
      case 'data':
        if (this.hasData) {
          this.data += '\n' + value;
        } else {
          this.data = value;
          this.hasData = true;
        }
        break;
      case 'event':
        this.eventType = value;
        break;
      case 'id':
        // The spec ignores an id containing NUL (it could not be sent back as Last-Event-ID).
        if (!value.includes('\0')) this.lastEventId = value;
        break;
      default:
        // `retry` only matters to a reconnecting client, which the gateway is not; other fields
        // are ignored by the spec so that the format can grow.
        break;
    }
  }

  private dispatch(events: SSEEvent[]): void {
    if (this.hasData) {
      events.push({
        event: this.eventType === '' ? undefined : this.eventType,
        data: this.data,
        id: this.lastEventId,
      });
    }
    this.resetEvent();
  }

  private resetEvent(): void {
    this.data = '';
    this.hasData = false;
    this.eventType = undefined;
    this.inEvent = false;
  }
}
