// Reads what an upstream says about its own rate limits from its response headers: OpenAI's
// x-ratelimit-{limit,remaining,reset}-{requests,tokens} (resets as durations: "20ms", "1.5s",
// "6m0s"), and Anthropic's anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset} (resets
// as RFC 3339 times). Gemini sends none. Anything missing or malformed is left out, never guessed.
import type { DimensionReport, UpstreamReport } from './backend.js';

type Headers = Record<string, string | string[] | undefined>;

const DURATION_PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "6m0s" -> 360000; a bare number is seconds; undefined when it does not parse. */
export function parseDurationMs(text: string): number | undefined {
  const trimmed = text.trim();
  if (/^\d+(?:\.\d+)?$/.test(trimmed)) return Number(trimmed) * 1000;
  let total = 0;
  let consumed = 0;
  for (const match of trimmed.matchAll(DURATION_PART)) {
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    consumed += match[0].length;
  }
  return consumed > 0 && consumed === trimmed.length ? total : undefined;
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

function count(text: string | undefined): number | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function dimension(remaining: number | undefined, resetMs: number | undefined, limit: number | undefined): DimensionReport | undefined {
  if (remaining === undefined || resetMs === undefined) return undefined;
  return { remaining, resetMs: Math.max(0, resetMs), ...(limit !== undefined ? { limit } : {}) };
}

/** The upstream's report, or undefined when its headers carry none. */
export function readRateHeaders(headers: Headers, now = Date.now()): UpstreamReport | undefined {
  const report: UpstreamReport = {};
  for (const which of ['requests', 'tokens'] as const) {
    const openai = header(headers, `x-ratelimit-reset-${which}`);
    const anthropic = header(headers, `anthropic-ratelimit-${which}-reset`);
    let seen: DimensionReport | undefined;
    if (openai !== undefined) {
      seen = dimension(count(header(headers, `x-ratelimit-remaining-${which}`)), parseDurationMs(openai), count(header(headers, `x-ratelimit-limit-${which}`)));
    } else if (anthropic !== undefined) {
      const at = Date.parse(anthropic);
      seen = dimension(count(header(headers, `anthropic-ratelimit-${which}-remaining`)), Number.isNaN(at) ? undefined : at - now, count(header(headers, `anthropic-ratelimit-${which}-limit`)));
    }
    if (seen) report[which] = seen;
  }
  return report.requests || report.tokens ? report : undefined;
}
