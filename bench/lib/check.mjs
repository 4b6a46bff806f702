// What counts as a correct answer. Every response is checked, so an error page can never be
// counted as a fast success.

/** Returns null for a good non-streaming completion, else a short error kind for the tallies. */
export function checkCompletion(status, text) {
  if (status !== 200) return `http ${status}`;
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    return 'body is not JSON';
  }
  if (body?.object !== 'chat.completion') return 'object is not chat.completion';
  const content = body.choices?.[0]?.message?.content;
  if (typeof content !== 'string' || content.length === 0) return 'empty content';
  return null;
}

/**
 * Incremental server-sent-events checker: feed it the body as it arrives. It notes when the
 * first content chunk came (the time to first byte a chat user perceives), counts content
 * chunks, and insists the stream ends with `data: [DONE]`.
 */
export class SseChecker {
  /**
   * light: parse only the first few events as JSON and check the rest structurally. At ~100,000
   * chunks/s (the many-streams test) full parsing made the checker a large share of the load
   * generator's CPU on the core it shares with the simulator.
   */
  constructor({ light = false } = {}) {
    this.light = light;
    this.events = 0;
    this.partial = '';
    this.contentChunks = 0;
    this.firstContentAt = 0;
    this.done = false;
    this.error = null;
  }

  feed(text, now) {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop();
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (!line.startsWith('data:')) continue; // blank separators, comments, event: lines
      this.onData(line.slice(line[5] === ' ' ? 6 : 5), now);
    }
  }

  onData(payload, now) {
    if (this.error) return;
    if (this.done) {
      this.error = 'data after [DONE]';
      return;
    }
    if (payload === '[DONE]') {
      this.done = true;
      return;
    }
    if (this.light && ++this.events > 3) {
      this.onDataLight(payload, now);
      return;
    }
    let event;
    try {
      event = JSON.parse(payload);
    } catch {
      this.error = 'chunk is not JSON';
      return;
    }
    if (event.error) {
      this.error = `error event: ${String(event.error.code ?? event.error.type ?? event.error.message).slice(0, 60)}`;
      return;
    }
    if (event.object !== 'chat.completion.chunk') {
      this.error = 'object is not chat.completion.chunk';
      return;
    }
    const content = event.choices?.[0]?.delta?.content;
    if (typeof content === 'string' && content.length > 0) {
      if (this.contentChunks === 0) this.firstContentAt = now;
      this.contentChunks++;
    }
  }

  onDataLight(payload, now) {
    if (payload[0] !== '{' || payload[payload.length - 1] !== '}' || !payload.includes('"chat.completion.chunk"')) {
      this.error = payload.includes('"error"') ? 'error event' : 'malformed chunk';
      return;
    }
    const at = payload.indexOf('"content":"');
    if (at >= 0 && payload[at + 11] !== '"') {
      if (this.contentChunks === 0) this.firstContentAt = now;
      this.contentChunks++;
    }
  }

  /** null when the stream was complete and well-formed. */
  verdict(status, expectedChunks) {
    if (status !== 200) return `http ${status}`;
    if (this.error) return this.error;
    if (this.partial.trim() !== '') this.feed('\n', this.firstContentAt);
    if (!this.done) return 'no [DONE]';
    if (this.contentChunks === 0) return 'no content chunks';
    if (expectedChunks && this.contentChunks !== expectedChunks) return `${this.contentChunks} content chunks, not ${expectedChunks}`;
    return null;
  }
}
