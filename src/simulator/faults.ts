// Fault injection, chosen per request by the `x-sim-fault` header or a model-name suffix
// (`sim-chat@fault=429:7;p=0.3`). Grammar, several specs separated by commas:
//   <kind>[:<arg>][;p=<probability 0..1>]
// Kinds and their argument:
//   429[:retryAfterSeconds=1]   rate-limit error with OpenAI's body and rate-limit headers
//   500 | 502 | 503[:retryAfterSeconds=1]   OpenAI-shaped server errors (503 carries Retry-After)
//   529                         overloaded: Anthropic's overloaded_error status (other formats
//                               answer it in their own overloaded shape)
//   slow-first-byte:<ms>        wait before the status line and headers
//   reset                       destroy the socket before any byte of the response
//   cut:<n>                     stream: n events then destroy the socket (no [DONE]);
//                               non-streaming: headers and the first half of the body, then destroy
//   malformed[:<n>=1]           stream: after n events one event that is not JSON, then carry on;
//                               non-streaming: a 200 whose body is not valid JSON
//   refusal                     400 content_policy_violation
//   slow-loris:<ms>             stream: headers and first event, then <ms> between every event;
//                               non-streaming: the body trickles out in pieces <ms> apart
//   error-event[:<n>=1]         stream: after n events an in-band `data: {"error":...}` and the end;
//                               non-streaming: a 500
//   hang:<n>                    stream: n events, then silence with the connection left open (an
//                               upstream stuck mid-answer); non-streaming: headers, then silence
// Probability is drawn with Math.random per request and per spec (p defaults to 1), so p=1 is
// fully deterministic and tests rely on that.

import type { IncomingHttpHeaders } from 'node:http';

export type ErrorFaultKind = '429' | '500' | '502' | '503' | '529' | 'refusal';
type FaultKind = ErrorFaultKind | 'slow-first-byte' | 'reset' | 'cut' | 'malformed' | 'slow-loris' | 'error-event' | 'hang';

export interface FaultSpec {
  kind: FaultKind;
  arg?: number;
  probability: number;
}

/** What a request should suffer, after the probabilities were rolled. */
export interface FaultPlan {
  firstByteDelayMs: number;
  reset: boolean;
  error?: { kind: ErrorFaultKind; retryAfterSeconds: number };
  cutAfter?: number;
  malformedAfter?: number;
  stallMs?: number;
  errorEventAfter?: number;
  hangAfter?: number;
}

const KINDS: Record<FaultKind, { arg: 'none' | 'optional' | 'required' }> = {
  '429': { arg: 'optional' },
  '500': { arg: 'none' },
  '502': { arg: 'none' },
  '503': { arg: 'optional' },
  '529': { arg: 'none' },
  refusal: { arg: 'none' },
  'slow-first-byte': { arg: 'required' },
  reset: { arg: 'none' },
  cut: { arg: 'required' },
  malformed: { arg: 'optional' },
  'slow-loris': { arg: 'required' },
  'error-event': { arg: 'optional' },
  hang: { arg: 'required' },
};

function isKind(value: string): value is FaultKind {
  return Object.hasOwn(KINDS, value);
}

export class FaultSpecError extends Error {}

const parsedCache = new Map<string, readonly FaultSpec[]>();

/** Parses a fault spec list; throws FaultSpecError with a message fit for the client. */
export function parseFaults(text: string): readonly FaultSpec[] {
  const cached = parsedCache.get(text);
  if (cached) return cached;
  const specs = text
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part.length > 0)
    .map(parseOne);
  if (parsedCache.size > 256) parsedCache.clear();
  parsedCache.set(text, specs);
  return specs;
}

function parseOne(part: string): FaultSpec {
  const [head = '', ...options] = part.split(';');
  const colon = head.indexOf(':');
  const kind = (colon === -1 ? head : head.slice(0, colon)).trim();
  const argText = colon === -1 ? undefined : head.slice(colon + 1).trim();
  if (!isKind(kind)) throw new FaultSpecError(`unknown fault kind "${kind}" in "${part}"; known: ${Object.keys(KINDS).join(', ')}`);
  const rule = KINDS[kind];
  let arg: number | undefined;
  if (argText !== undefined) {
    if (rule.arg === 'none') throw new FaultSpecError(`fault "${kind}" takes no argument`);
    arg = Number(argText);
    if (argText === '' || !Number.isFinite(arg) || arg < 0) throw new FaultSpecError(`fault "${kind}" needs a non-negative number, got "${argText}"`);
  } else if (rule.arg === 'required') {
    throw new FaultSpecError(`fault "${kind}" needs an argument: ${kind}:<number>`);
  }
  let probability = 1;
  for (const option of options) {
    const match = /^\s*p\s*=\s*([0-9.]+)\s*$/.exec(option);
    const value = match ? Number(match[1]) : NaN;
    if (!(value >= 0 && value <= 1)) throw new FaultSpecError(`bad option "${option}" in "${part}"; expected p=<0..1>`);
    probability = value;
  }
  return { kind, arg, probability };
}

const MODEL_FAULT_MARKER = '@fault=';

/** Splits `sim-chat@fault=<spec>` into the base model and the spec. */
export function splitModelFault(model: string): { model: string; fault?: string } {
  const at = model.indexOf(MODEL_FAULT_MARKER);
  if (at === -1) return { model };
  return { model: model.slice(0, at), fault: model.slice(at + MODEL_FAULT_MARKER.length) };
}

/** Rolls each spec's probability and folds the survivors into one plan (undefined: no fault). */
export function planFaults(specs: readonly FaultSpec[], roll: () => number = Math.random): FaultPlan | undefined {
  let plan: FaultPlan | undefined;
  for (const spec of specs) {
    if (spec.probability < 1 && roll() >= spec.probability) continue;
    plan ??= { firstByteDelayMs: 0, reset: false };
    switch (spec.kind) {
      case 'slow-first-byte':
        plan.firstByteDelayMs += spec.arg ?? 0;
        break;
      case 'reset':
        plan.reset = true;
        break;
      case 'cut':
        plan.cutAfter = Math.floor(spec.arg ?? 0);
        break;
      case 'malformed':
        plan.malformedAfter = Math.floor(spec.arg ?? 1);
        break;
      case 'slow-loris':
        plan.stallMs = spec.arg ?? 0;
        break;
      case 'error-event':
        plan.errorEventAfter = Math.floor(spec.arg ?? 1);
        break;
      case 'hang':
        plan.hangAfter = Math.floor(spec.arg ?? 0);
        break;
      default:
        // The first error fault listed wins; later ones are ignored.
        plan.error ??= { kind: spec.kind, retryAfterSeconds: spec.arg ?? 1 };
    }
  }
  return plan;
}

/**
 * This request's fault plan: the x-sim-fault header wins over a model-name suffix. A bad spec
 * throws the error `badSpec` builds, in the wire format of the endpoint that was called.
 */
export function requestFaultPlan(
  headers: IncomingHttpHeaders,
  modelSuffix: string | undefined,
  badSpec: (message: string) => Error,
): FaultPlan | undefined {
  const header = headers['x-sim-fault'];
  const spec = typeof header === 'string' && header.length > 0 ? header : modelSuffix;
  if (spec === undefined) return undefined;
  try {
    return planFaults(parseFaults(spec));
  } catch (error) {
    if (error instanceof FaultSpecError) throw badSpec(error.message);
    throw error;
  }
}
