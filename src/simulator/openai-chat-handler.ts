// POST /v1/chat/completions: parse, answer with the engine, deliver JSON or SSE.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { deliverBody, deliverStream, waitUnlessClosed, type StreamFaultFrames, type StreamTracker } from './delivery.js';
import { answer } from './engine.js';
import type { FaultPlan } from './faults.js';
import { parseChatRequest } from './openai-chat-request.js';
import { ChatStreamCursor, renderChatCompletion, type ResponseMeta } from './openai-chat-response.js';
import { openaiErrors } from './openai-errors.js';
import { interTokenMs, resolvePacing, totalGenerationMs, type PacingMode } from './pacing.js';
import type { RateWindow } from './rate-headers.js';
import { randomAlnum, randomHex } from './rng.js';

export interface Exchange {
  headers: IncomingHttpHeaders;
  res: ServerResponse;
  requestId: string;
  started: number;
  faults: FaultPlan | undefined;
  pacingMode: PacingMode;
  rateWindow: RateWindow;
  streams: StreamTracker;
  /** Headers every response carries (request id, OpenAI version...). */
  baseHeaders(): Record<string, string>;
}

/** One fingerprint per process, like one backend configuration. */
const SYSTEM_FINGERPRINT = `fp_${randomHex(10)}`;
const completionIdPrefix = randomAlnum(17);
let completionCounter = 0;

function nextCompletionId(): string {
  completionCounter = (completionCounter + 1) % 36 ** 12;
  return `chatcmpl-${completionIdPrefix}${completionCounter.toString(36).padStart(12, '0')}`;
}

function answerTokensHeader(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['x-sim-tokens'];
  if (typeof raw !== 'string') return undefined;
  const value = Number(raw);
  return Number.isInteger(value) && value >= 1 ? value : undefined;
}

function streamFrames(requestId: string): StreamFaultFrames {
  const error = openaiErrors.serverError(requestId).body;
  return {
    // Cut off mid-object: what a proxy that truncates a chunk would deliver.
    malformed: 'data: {"id":"chatcmpl-malformed","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"\n\n',
    errorEvent: `data: ${JSON.stringify(error)}\n\n`,
  };
}

export async function handleChat(ex: Exchange, body: Record<string, unknown>, modelId: string): Promise<void> {
  const parsed = parseChatRequest(body, modelId, answerTokensHeader(ex.headers));
  const { sim, options } = parsed;
  // Outside a stream there is no in-band error event: the same failure surfaces as a 500.
  if (!options.stream && ex.faults?.errorEventAfter !== undefined) throw openaiErrors.serverError(ex.requestId);
  const result = answer(sim);
  const meta: ResponseMeta = {
    id: nextCompletionId(),
    created: Math.floor(Date.now() / 1000),
    model: sim.model.id,
    systemFingerprint: SYSTEM_FINGERPRINT,
  };
  const pacing = resolvePacing(ex.pacingMode, sim.model, ex.headers);
  const rate = ex.rateWindow.record(result.promptTokens + result.completionTokens);

  if (options.stream) {
    deliverStream({
      res: ex.res,
      headers: { ...ex.baseHeaders(), ...rate, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
      events: new ChatStreamCursor(result, meta, options),
      ttftMs: pacing.ttftMs,
      interEventMs: interTokenMs(pacing),
      faults: ex.faults,
      frames: streamFrames(ex.requestId),
      tracker: ex.streams,
    });
    return;
  }
  const longest = Math.max(...result.choices.map((c) => c.completionTokens));
  if (!(await waitUnlessClosed(ex.res, totalGenerationMs(pacing, longest)))) return;
  const text = JSON.stringify(renderChatCompletion(result, meta, options));
  deliverBody(ex.res, 200, { ...ex.baseHeaders(), ...rate, 'content-type': 'application/json' }, text, ex.faults);
}
