// POST /v1beta/models/{model}:generateContent and :streamGenerateContent?alt=sse: parse, answer
// with the engine, deliver one GenerateContentResponse or an SSE stream of them.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { deliverBody, deliverStream, waitUnlessClosed, type EventSource, type StreamFaultFrames, type StreamTracker } from './delivery.js';
import { answer } from './engine.js';
import type { FaultPlan } from './faults.js';
import { geminiErrors } from './gemini-errors.js';
import { parseGeminiRequest } from './gemini-request.js';
import { GeminiStreamCursor, TOKENS_PER_EVENT, geminiMeta, renderGenerateContent, renderPromptBlocked, sseEvent } from './gemini-response.js';
import type { SimModel } from './models.js';
import { interTokenMs, resolvePacing, totalGenerationMs, type PacingMode } from './pacing.js';

export interface GeminiExchange {
  headers: IncomingHttpHeaders;
  res: ServerResponse;
  faults: FaultPlan | undefined;
  pacingMode: PacingMode;
  streams: StreamTracker;
  /** Headers every response carries. */
  baseHeaders(): Record<string, string>;
}

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' };
const JSON_HEADERS = { 'content-type': 'application/json; charset=UTF-8' };

function answerTokensHeader(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['x-sim-tokens'];
  if (typeof raw !== 'string') return undefined;
  const value = Number(raw);
  return Number.isInteger(value) && value >= 1 ? value : undefined;
}

const STREAM_FRAMES: StreamFaultFrames = {
  // Cut off mid-object: what a proxy that truncates an event would deliver.
  malformed: 'data: {"candidates": [{"content": {"parts": [{"text": "\r\n\r\n',
  errorEvent: sseEvent(geminiErrors.internal().body),
};

function oneEvent(event: string): EventSource {
  let sent = false;
  return {
    next() {
      if (sent) return undefined;
      sent = true;
      return event;
    },
  };
}

export async function handleGenerate(ex: GeminiExchange, body: Record<string, unknown>, model: SimModel, stream: boolean): Promise<void> {
  const { sim } = parseGeminiRequest(body, model, answerTokensHeader(ex.headers));
  // Outside a stream there is no in-band error event: the same failure surfaces as a 500.
  if (!stream && ex.faults?.errorEventAfter !== undefined) throw geminiErrors.internal();
  const meta = geminiMeta(sim);
  const pacing = resolvePacing(ex.pacingMode, sim.model, ex.headers);
  // A blocked prompt is not an HTTP error on Gemini: a 200 whose promptFeedback says why.
  const blocked = ex.faults?.error?.kind === 'refusal';

  if (stream) {
    deliverStream({
      res: ex.res,
      headers: { ...ex.baseHeaders(), ...SSE_HEADERS },
      events: blocked ? oneEvent(sseEvent(renderPromptBlocked(sim.promptTokens, meta))) : new GeminiStreamCursor(answer(sim), meta),
      ttftMs: pacing.ttftMs,
      interEventMs: interTokenMs(pacing) * TOKENS_PER_EVENT,
      faults: ex.faults,
      frames: STREAM_FRAMES,
      tracker: ex.streams,
    });
    return;
  }
  if (blocked) {
    if (!(await waitUnlessClosed(ex.res, pacing.ttftMs))) return;
    const text = JSON.stringify(renderPromptBlocked(sim.promptTokens, meta));
    return deliverBody(ex.res, 200, { ...ex.baseHeaders(), ...JSON_HEADERS }, text, ex.faults);
  }
  const result = answer(sim);
  const longest = Math.max(...result.choices.map((c) => c.completionTokens));
  if (!(await waitUnlessClosed(ex.res, totalGenerationMs(pacing, longest)))) return;
  const text = JSON.stringify(renderGenerateContent(result, meta));
  deliverBody(ex.res, 200, { ...ex.baseHeaders(), ...JSON_HEADERS }, text, ex.faults);
}
