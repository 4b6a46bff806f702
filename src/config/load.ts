// Reads the YAML file, substitutes ${ENV} references in string values, validates strictly.
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { fileSchema, type RawConfig } from './schema.js';
import { ConfigError, resolveConfig, type Config } from './config.js';

type Env = Record<string, string | undefined>;

export function loadConfigFile(path: string, env: Env = process.env): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError([`${path}: cannot read the file (${(error as NodeJS.ErrnoException).code ?? 'error'})`]);
  }
  return resolveConfig(parseConfigText(text, env, path), { kind: 'file', path });
}

export function parseConfigText(text: string, env: Env, source = 'config'): RawConfig {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(doc.errors.map((e) => `${source}: ${e.message.split('\n')[0]}`));
  }
  const problems: string[] = [];
  const substituted = substituteEnv(doc.toJS() ?? {}, env, [], problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return validateRaw(substituted);
}

export function validateRaw(value: unknown): RawConfig {
  const result = fileSchema.safeParse(value);
  if (!result.success) throw new ConfigError(result.error.issues.map(formatIssue));
  return result.data;
}

function formatIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.reduce<string>(
    (acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)),
    '',
  );
  const keys = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
  return `${path || '(top level)'}: ${issue.message}${keys}`;
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

/** ${NAME} and ${NAME:-default} inside string values only, so a variable can never inject YAML structure. */
function substituteEnv(value: unknown, env: Env, path: string[], problems: string[]): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (_match, name: string, fallback: string | undefined) => {
      const found = env[name];
      if (found !== undefined && found !== '') return found;
      if (fallback !== undefined) return fallback;
      problems.push(`${path.join('.')}: environment variable ${name} is not set`);
      return '';
    });
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, [...path.slice(0, -1), `${path.at(-1) ?? ''}[${i}]`], problems));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substituteEnv(v, env, [...path, k], problems)]));
  }
  return value;
}
