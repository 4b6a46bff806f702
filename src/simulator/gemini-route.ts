// The simulator's Gemini front end: `/v1beta/models/{model}:{method}` routing, API-key checks
// (`x-goog-api-key` header or `?key=`), the request-level faults in Gemini's error shapes, then
// the generateContent / streamGenerateContent / batchEmbedContents handlers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { applyConnectionFaults, deliverBody, waitUnlessClosed, type StreamTracker } from './delivery.js';
import { requestFaultPlan, splitModelFault } from './faults.js';
import { handleGenerate, type GeminiExchange } from './gemini-chat-handler.js';
import { batchEmbed } from './gemini-embeddings.js';
import { GeminiHttpError, geminiErrors } from './gemini-errors.js';
import { BodyTooLargeError, MAX_BODY_BYTES, readBody, sendJson } from './http-io.js';
import { findSimModel } from './models.js';
import { resolvePacing, type PacingMode } from './pacing.js';

export const GEMINI_PATH_PREFIX = '/v1beta/';

export interface GeminiRouteContext {
  pacingMode: PacingMode;
  apiKey: string | undefined;
  streams: StreamTracker;
  started: number;
}

type Method = 'generateContent' | 'streamGenerateContent' | 'batchEmbedContents';
const METHODS = new Set<string>(['generateContent', 'streamGenerateContent', 'batchEmbedContents']);

/** `/v1beta/models/sim-chat@fault=429:7:generateContent`: the method follows the last colon. */
function parsePath(path: string): { model: string; method: Method } | undefined {
  const prefix = `${GEMINI_PATH_PREFIX}models/`;
  if (!path.startsWith(prefix)) return undefined;
  const rest = path.slice(prefix.length);
  const colon = rest.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const method = rest.slice(colon + 1);
  if (!METHODS.has(method)) return undefined;
  try {
    return { model: decodeURIComponent(rest.slice(0, colon)), method: method as Method };
  } catch {
    return undefined;
  }
}

function checkApiKey(req: IncomingMessage, query: URLSearchParams, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  const header = req.headers['x-goog-api-key'];
  const key = typeof header === 'string' && header.length > 0 ? header : query.get('key');
  if (!key) throw geminiErrors.missingApiKey();
  if (key !== apiKey) throw geminiErrors.wrongApiKey();
}

/** Faults that replace the whole response; false when nothing more may be sent. A refusal is not
 * one of them on Gemini: the prompt is blocked inside a 200, so the chat handler renders it. */
async function applyRequestFaults(ex: GeminiExchange, req: IncomingMessage, model: string): Promise<boolean> {
  const plan = ex.faults;
  if (!(await applyConnectionFaults(plan, req, ex.res))) return false;
  if (!plan?.error || plan.error.kind === 'refusal') return true;
  const { kind, retryAfterSeconds } = plan.error;
  const error =
    kind === '429' ? geminiErrors.rateLimited(model, retryAfterSeconds)
    : kind === '500' ? geminiErrors.internal()
    : kind === '502' ? geminiErrors.badGateway()
    : geminiErrors.overloaded();
  sendGeminiError(ex.res, error, ex.baseHeaders());
  return false;
}

function sendGeminiError(res: ServerResponse, error: GeminiHttpError, headers: Record<string, string>): void {
  if (res.headersSent || res.destroyed) return;
  sendJson(res, error.status, error.body, headers);
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw geminiErrors.bodyTooLarge(MAX_BODY_BYTES);
    throw error;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw geminiErrors.invalidJson((error as Error).message);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw geminiErrors.invalidJson('Expected a JSON object.');
  return body as Record<string, unknown>;
}

export async function handleGeminiRoute(req: IncomingMessage, res: ServerResponse, ctx: GeminiRouteContext): Promise<void> {
  const ex: GeminiExchange = {
    headers: req.headers,
    res,
    faults: undefined,
    pacingMode: ctx.pacingMode,
    streams: ctx.streams,
    baseHeaders: () => ({ vary: 'Origin, X-Origin, Referer', 'server-timing': `gfet4t7; dur=${Date.now() - ctx.started}` }),
  };
  try {
    const url = new URL(req.url ?? '/', 'http://simulator');
    const method = req.method ?? 'GET';
    const route = method === 'POST' ? parsePath(url.pathname) : undefined;
    if (!route) throw geminiErrors.unknownRoute(method, url.pathname);
    checkApiKey(req, url.searchParams, ctx.apiKey);
    if (route.method === 'streamGenerateContent' && url.searchParams.get('alt') !== 'sse') {
      // Without alt=sse Gemini streams one JSON array; the simulator serves the SSE form only.
      throw geminiErrors.invalidArgument('The simulator serves streamGenerateContent only with ?alt=sse.');
    }
    const split = splitModelFault(route.model);
    ex.faults = requestFaultPlan(req.headers, split.fault, geminiErrors.badFaultSpec);
    if (!(await applyRequestFaults(ex, req, split.model))) return;
    const body = await readJsonBody(req);
    const model = findSimModel(split.model);
    const wanted = route.method === 'batchEmbedContents' ? 'embedding' : 'chat';
    if (!model || model.kind !== wanted) throw geminiErrors.modelNotFound(split.model, route.method);
    if (route.method !== 'batchEmbedContents') return await handleGenerate(ex, body, model, route.method === 'streamGenerateContent');
    const embeddings = batchEmbed(body, model);
    if (!(await waitUnlessClosed(res, resolvePacing(ex.pacingMode, model, req.headers).ttftMs))) return;
    deliverBody(res, 200, { ...ex.baseHeaders(), 'content-type': 'application/json; charset=UTF-8' }, JSON.stringify(embeddings), ex.faults);
  } catch (error) {
    // Anything else is a bug in the simulator: answer like Gemini's own 500 rather than hang.
    sendGeminiError(res, error instanceof GeminiHttpError ? error : geminiErrors.internal(), ex.baseHeaders());
  }
}
