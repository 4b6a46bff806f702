// The simulated upstream's HTTP server (node:http directly, for speed): routing, authentication,
// request-level faults, then the endpoint handlers of the OpenAI wire format.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { applyConnectionFaults, deliverBody, waitUnlessClosed, type StreamTracker } from './delivery.js';
import { requestFaultPlan, splitModelFault } from './faults.js';
import { BodyTooLargeError, MAX_BODY_BYTES, nextRequestId, readBody, sendError, sendJson } from './http-io.js';
import { findSimModel, simModelCards, toModelCard } from './models.js';
import { GEMINI_PATH_PREFIX, handleGeminiRoute } from './gemini-route.js';
import { ANTHROPIC_MESSAGES_PATH, handleAnthropicMessages } from './anthropic-handler.js';
import { handleChat, type Exchange } from './openai-chat-handler.js';
import { createEmbeddings } from './openai-embeddings.js';
import { openaiErrors, SimHttpError } from './openai-errors.js';
import { resolvePacing, type PacingMode } from './pacing.js';
import { RateWindow, rateLimitedHeaders } from './rate-headers.js';

export interface SimulatorServerOptions {
  pacing?: PacingMode;
  /** When set, every request must carry `Authorization: Bearer <apiKey>` (Gemini routes: `x-goog-api-key` or `?key=`; Anthropic's /v1/messages: `x-api-key`). */
  apiKey?: string;
}

const MODELS_LIST = JSON.stringify({ object: 'list', data: simModelCards() });

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkAuth(req: IncomingMessage, apiKey: string | undefined): void {
  if (apiKey === undefined) return;
  const header = req.headers.authorization;
  if (typeof header !== 'string' || !header.startsWith('Bearer ') || header.length <= 7) throw openaiErrors.missingApiKey();
  const key = header.slice(7).trim();
  if (key !== apiKey) throw openaiErrors.wrongApiKey(key);
}

/** Applies the faults that replace the whole response; returns false when nothing more may be sent. */
async function applyRequestFaults(ex: Exchange, req: IncomingMessage, model: string): Promise<boolean> {
  const plan = ex.faults;
  if (!(await applyConnectionFaults(plan, req, ex.res))) return false;
  if (!plan?.error) return true;
  const { kind, retryAfterSeconds } = plan.error;
  const headers = ex.baseHeaders();
  if (kind === '429') sendError(ex.res, openaiErrors.rateLimited(model, retryAfterSeconds), { ...headers, ...rateLimitedHeaders(retryAfterSeconds) });
  else if (kind === '500') sendError(ex.res, openaiErrors.serverError(ex.requestId), headers);
  else if (kind === '502') sendError(ex.res, openaiErrors.badGateway(), headers);
  else if (kind === '503') sendError(ex.res, openaiErrors.overloaded(ex.requestId), { ...headers, 'retry-after': String(Math.ceil(retryAfterSeconds)) });
  else if (kind === '529') sendError(ex.res, new SimHttpError(529, openaiErrors.overloaded(ex.requestId).body), headers);
  else sendError(ex.res, openaiErrors.refusal(), headers);
  return false;
}

async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await readBody(req);
  } catch (error) {
    if (error instanceof BodyTooLargeError) throw openaiErrors.bodyTooLarge(MAX_BODY_BYTES);
    throw error;
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw openaiErrors.invalidJson();
  }
  if (!isObject(body)) throw openaiErrors.invalidJson();
  return body;
}

type Route = 'chat' | 'embeddings' | 'models' | 'model' | 'unknown';

function route(method: string, path: string): Route {
  if (method === 'POST' && path === '/v1/chat/completions') return 'chat';
  if (method === 'POST' && path === '/v1/embeddings') return 'embeddings';
  if (method === 'GET' && path === '/v1/models') return 'models';
  if (method === 'GET' && path.startsWith('/v1/models/')) return 'model';
  return 'unknown';
}

interface ServerState {
  rateWindow: RateWindow;
  streams: StreamTracker;
}

async function handle(req: IncomingMessage, res: ServerResponse, options: SimulatorServerOptions, state: ServerState): Promise<void> {
  const started = Date.now();
  const requestId = nextRequestId();
  const ex: Exchange = {
    headers: req.headers,
    res,
    requestId,
    started,
    faults: undefined,
    pacingMode: options.pacing ?? 'realistic',
    rateWindow: state.rateWindow,
    streams: state.streams,
    baseHeaders: () => ({
      'x-request-id': requestId,
      'openai-version': '2020-10-01',
      'openai-organization': 'org-floodgatesim',
      'openai-processing-ms': String(Date.now() - started),
    }),
  };
  try {
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const method = req.method ?? 'GET';
    if (path.startsWith(GEMINI_PATH_PREFIX)) {
      return await handleGeminiRoute(req, res, { pacingMode: ex.pacingMode, apiKey: options.apiKey, streams: state.streams, started });
    }
    if (path === ANTHROPIC_MESSAGES_PATH) {
      return await handleAnthropicMessages(req, res, { requestId, started, pacingMode: ex.pacingMode, apiKey: options.apiKey, rateWindow: state.rateWindow, streams: state.streams });
    }
    const which = route(method, path);
    if (which === 'unknown') throw openaiErrors.unknownRoute(method, path);
    checkAuth(req, options.apiKey);
    if (which === 'models' || which === 'model') {
      ex.faults = requestFaultPlan(req.headers, undefined, openaiErrors.badFaultSpec);
      if (!(await applyRequestFaults(ex, req, 'sim-chat'))) return;
      if (which === 'models') return sendJson(res, 200, MODELS_LIST, ex.baseHeaders());
      const id = decodeURIComponent(path.slice('/v1/models/'.length));
      const model = findSimModel(id);
      if (!model) throw openaiErrors.modelNotFound(id);
      return sendJson(res, 200, toModelCard(model), ex.baseHeaders());
    }
    const body = await readJsonBody(req);
    const rawModel = body.model;
    const split = typeof rawModel === 'string' ? splitModelFault(rawModel) : { model: undefined, fault: undefined };
    ex.faults = requestFaultPlan(req.headers, split.fault, openaiErrors.badFaultSpec);
    if (!(await applyRequestFaults(ex, req, split.model ?? 'unknown'))) return;
    if (split.model === undefined || split.model.length === 0) throw openaiErrors.missingModel();
    if (which === 'chat') return await handleChat(ex, body, split.model);
    const embeddings = createEmbeddings(body, split.model);
    const model = findSimModel(split.model);
    const delay = model ? resolvePacing(ex.pacingMode, model, req.headers).ttftMs : 0;
    if (!(await waitUnlessClosed(res, delay))) return;
    return deliverBody(res, 200, { ...ex.baseHeaders(), 'content-type': 'application/json' }, JSON.stringify(embeddings), ex.faults);
  } catch (error) {
    if (error instanceof SimHttpError) return sendError(res, error, ex.baseHeaders());
    // A bug in the simulator: answer like OpenAI's own 500 rather than hanging the client.
    sendError(res, openaiErrors.serverError(requestId), ex.baseHeaders());
  }
}

export interface SimulatorServer {
  server: Server;
  /** Streams currently being delivered: lets tests see that a client disconnect reached the upstream. */
  openStreams(): number;
}

export function createSimulatorServer(options: SimulatorServerOptions = {}): SimulatorServer {
  const state: ServerState = { rateWindow: new RateWindow(), streams: { open: 0 } };
  const server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
    void handle(req, res, options, state);
  });
  // Slow streams can last minutes; Node's default request timeout would cut them off.
  server.headersTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  return { server, openStreams: () => state.streams.open };
}
