// Token pacing: how long until the first token and how fast the rest follow. Defaults come from
// the model, the server can switch them all off ('instant', for tests), and each request can
// override them with headers (the benchmark sends both as 0).
import type { IncomingHttpHeaders } from 'node:http';
import type { SimModel, SimPacing } from './models.js';

export type PacingMode = 'realistic' | 'instant';

const INSTANT: SimPacing = { ttftMs: 0, tokensPerSecond: 0 };

function headerNumber(headers: IncomingHttpHeaders, name: string): number | undefined {
  const raw = headers[name];
  if (typeof raw !== 'string' || raw.length === 0) return undefined;
  const value = Number(raw);
  // An unparseable or negative override is ignored rather than failing the request.
  return Number.isFinite(value) && value >= 0 ? value : undefined;
}

export function resolvePacing(mode: PacingMode, model: SimModel, headers: IncomingHttpHeaders): SimPacing {
  const base = mode === 'instant' ? INSTANT : model.pacing;
  const ttftMs = headerNumber(headers, 'x-sim-ttft-ms') ?? base.ttftMs;
  const tokensPerSecond = headerNumber(headers, 'x-sim-tps') ?? base.tokensPerSecond;
  return { ttftMs, tokensPerSecond };
}

/** Milliseconds between two generated tokens; 0 means send them back to back. */
export function interTokenMs(pacing: SimPacing): number {
  return pacing.tokensPerSecond > 0 ? 1000 / pacing.tokensPerSecond : 0;
}

/** How long a non-streaming answer of `tokens` tokens takes to "generate". */
export function totalGenerationMs(pacing: SimPacing, tokens: number): number {
  return pacing.ttftMs + interTokenMs(pacing) * tokens;
}
