// OpenAI's `metadata`: at most 16 pairs, keys up to 64 characters, values strings up to 512.
import { GatewayError } from '../core/errors.js';

export type Metadata = Record<string, string>;

export function parseMetadata(value: unknown, param = 'metadata'): Metadata {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw invalid(param, 'metadata must be an object of string values.');
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > 16) throw invalid(param, `metadata may hold at most 16 pairs; got ${entries.length}.`);
  const metadata: Metadata = {};
  for (const [key, item] of entries) {
    if (key.length > 64) throw invalid(`${param}.${key.slice(0, 64)}`, 'metadata keys are at most 64 characters.');
    if (typeof item !== 'string') throw invalid(`${param}.${key}`, 'metadata values must be strings.');
    if (item.length > 512) throw invalid(`${param}.${key}`, 'metadata values are at most 512 characters.');
    metadata[key] = item;
  }
  return metadata;
}

function invalid(param: string, message: string): GatewayError {
  return new GatewayError(message, { status: 400, type: 'invalid_request_error', code: 'invalid_value', param });
}
