// The simulator's Anthropic front end: POST /v1/messages with `x-api-key` and `anthropic-version`
// checks, the request-level faults in Anthropic's error shapes, then the answer as a `message`
// object or a typed event stream. Everything a client sees carries a `request-id` header, and
// every error body repeats it as `request_id`, as the real API does.
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { applyConnectionFaults, deliverBody, deliverStream, waitUnlessClosed, type StreamFaultFrames, type StreamTracker } from './delivery.js';
import { answer } from './engine.js';
import { requestFaultPlan, splitModelFault, type FaultPlan } from './faults.js';
import { BodyTooLargeError, readBody, sendJson } from './http-io.js';
import { interTokenMs, resolvePacing, totalGenerationMs, type PacingMode } from './pacing.js';
import { REQUEST_LIMIT_PER_MINUTE, type RateWindow } from './rate-headers.js';
import { AnthropicHttpError, anthropicErrors, OVERLOADED_EVENT } from './anthropic-errors.js';
import { anthropicRateLimitedHeaders, recordAnthropicRate } from './anthropic-rate-headers.js';
import { parseMessagesRequest } from './anthropic-request.js';
import { MessageStreamCursor, nextMessageId, renderMessage, shapeAnswer } from './anthropic-response.js';

export const ANTHROPIC_MESSAGES_PATH = '/v1/messages';

/** Versions the API accepts in `anthropic-version`; the Messages API needs one of them. */
const VERSIONS = new Set(['2023-06-01', '2023-01-01']);

export interface AnthropicRouteContext {
  requestId: string;
  started: number;
  pacingMode: PacingMode;
  apiKey: string | undefined;
  rateWindow: RateWindow;
  streams: StreamTracker;
}

function checkHeaders(headers: IncomingHttpHeaders, apiKey: string | undefined): void {
  if (apiKey !== undefined) {
    const key = headers['x-api-key'];
    if (typeof key !== 'string' || key.length === 0) throw anthropicErrors.missingApiKey();
    if (key !== apiKey) throw anthropicErrors.wrongApiKey();
  }
  const version = headers['anthropic-version'];
  if (typeof version !== 'string' || version.length === 0) throw anthropicErrors.missingVersion();
  if (!VERSIONS.has(version)) throw anthropicErrors.badVersion(version);
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw anthropicErrors.bodyTooLarge();
    throw error;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw anthropicErrors.invalidJson();
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw anthropicErrors.invalidJson();
  return body as Record<string, unknown>;
}

/**
 * The faults that replace the whole response (thrown as errors); false when nothing more may be
 * sent. A refusal is not one of them: Anthropic answers a policy intervention with a 200 whose
 * stop_reason is "refusal", so the answer renderer handles it.
 */
async function applyRequestFaults(plan: FaultPlan | undefined, req: IncomingMessage, res: ServerResponse): Promise<boolean> {
  if (!(await applyConnectionFaults(plan, req, res))) return false;
  if (!plan?.error || plan.error.kind === 'refusal') return true;
  const { kind, retryAfterSeconds } = plan.error;
  if (kind === '429') throw anthropicErrors.rateLimited(REQUEST_LIMIT_PER_MINUTE, anthropicRateLimitedHeaders(retryAfterSeconds));
  if (kind === '500') throw anthropicErrors.apiError();
  if (kind === '502') throw anthropicErrors.badGateway();
  if (kind === '503') throw anthropicErrors.unavailable(retryAfterSeconds);
  throw anthropicErrors.overloaded();
}

function answerTokensHeader(headers: IncomingHttpHeaders): number | undefined {
  const value = Number(headers['x-sim-tokens']);
  return Number.isInteger(value) && value >= 1 ? value : undefined;
}

const STREAM_FRAMES: StreamFaultFrames = {
  // Cut off mid-object: what a proxy that truncates an event would deliver.
  malformed: 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"\n\n',
  errorEvent: OVERLOADED_EVENT,
};

async function answerMessages(req: IncomingMessage, res: ServerResponse, ctx: AnthropicRouteContext, baseHeaders: () => Record<string, string>): Promise<void> {
  checkHeaders(req.headers, ctx.apiKey);
  const body = await readJsonBody(req);
  const split = typeof body.model === 'string' ? splitModelFault(body.model) : { model: undefined, fault: undefined };
  const faults = requestFaultPlan(req.headers, split.fault, anthropicErrors.badFaultSpec);
  if (!(await applyRequestFaults(faults, req, res))) return;

  const { sim, options } = parseMessagesRequest(body, split.model, answerTokensHeader(req.headers));
  // Outside a stream there is no in-band error; the docs pair the stream's overloaded_error with a 529.
  if (!options.stream && faults?.errorEventAfter !== undefined) throw anthropicErrors.overloaded();
  const shaped = shapeAnswer(answer(sim), options.stopSequences, faults?.error?.kind === 'refusal');
  const meta = { id: nextMessageId(), model: sim.model.id };
  const pacing = resolvePacing(ctx.pacingMode, sim.model, req.headers);
  const rate = recordAnthropicRate(ctx.rateWindow, shaped.inputTokens + shaped.outputTokens);

  if (options.stream) {
    deliverStream({
      res,
      headers: { ...baseHeaders(), ...rate, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' },
      events: new MessageStreamCursor(shaped, meta, faults?.cutAfter !== undefined),
      ttftMs: pacing.ttftMs,
      interEventMs: interTokenMs(pacing),
      faults,
      frames: STREAM_FRAMES,
      tracker: ctx.streams,
    });
    return;
  }
  if (!(await waitUnlessClosed(res, totalGenerationMs(pacing, shaped.outputTokens)))) return;
  const text = JSON.stringify(renderMessage(shaped, meta));
  deliverBody(res, 200, { ...baseHeaders(), ...rate, 'content-type': 'application/json' }, text, faults);
}

export async function handleAnthropicMessages(req: IncomingMessage, res: ServerResponse, ctx: AnthropicRouteContext): Promise<void> {
  const baseHeaders = (): Record<string, string> => ({
    'request-id': ctx.requestId,
    'anthropic-organization-id': '3b1f0c2e-5d4a-4c8b-9e7f-f100d6a7e500',
  });
  try {
    if (req.method !== 'POST') throw anthropicErrors.unknownRoute();
    await answerMessages(req, res, ctx, baseHeaders);
  } catch (error) {
    // Anything but an AnthropicHttpError is a bug in the simulator: answer like the API's own 500.
    const failure = error instanceof AnthropicHttpError ? error : anthropicErrors.apiError();
    if (res.headersSent || res.destroyed) return;
    sendJson(res, failure.status, failure.body(ctx.requestId), { ...baseHeaders(), ...failure.headers });
  }
}
