// The first schema. Conversations hold one row per item (never a growing blob), so appending is
// one insert and reading a page is one index range scan. Times are epoch milliseconds (int8).
// Item and usage rows are written by batched flushes with ON CONFLICT DO NOTHING on their ids,
// so there are no foreign keys and no other unique keys: a batch must never fail because another
// batch came first. (PostgreSQL forgives conflicts on the named index only: a UNIQUE (conversation,
// seq) would fail a batch for good when two processes gave one seq to two items.) seq is an
// ordering key; readers order by (seq, id), which stays total when two items share a seq.
export const initial = `
CREATE TABLE conversations (
  id          text PRIMARY KEY,
  owner       text NOT NULL,
  metadata    jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at  int8 NOT NULL,
  updated_at  int8 NOT NULL,
  deleted_at  int8
);
CREATE INDEX conversations_by_owner ON conversations (owner, created_at DESC, id DESC) WHERE deleted_at IS NULL;

CREATE TABLE conversation_items (
  id               text PRIMARY KEY,
  conversation_id  text NOT NULL,
  seq              int8 NOT NULL,
  type             text NOT NULL,
  body             jsonb NOT NULL,
  created_at       int8 NOT NULL,
  deleted_at       int8
);
CREATE INDEX conversation_items_in_order ON conversation_items (conversation_id, seq, id);

CREATE TABLE responses (
  id                    text PRIMARY KEY,
  owner                 text NOT NULL,
  conversation_id       text,
  previous_response_id  text,
  model                 text NOT NULL,
  status                text NOT NULL,
  body                  jsonb NOT NULL,
  input_items           jsonb NOT NULL DEFAULT '[]'::jsonb,
  created_at            int8 NOT NULL,
  deleted_at            int8
);
CREATE INDEX responses_by_owner ON responses (owner, created_at DESC);

CREATE TABLE usage_records (
  id                 text PRIMARY KEY,
  identity           text NOT NULL,
  model              text NOT NULL,
  deployment         text,
  prompt_tokens      int4 NOT NULL DEFAULT 0,
  completion_tokens  int4 NOT NULL DEFAULT 0,
  latency_ms         int4 NOT NULL,
  status             int2 NOT NULL,
  cost_usd           numeric(14, 8),
  created_at         int8 NOT NULL
);
CREATE INDEX usage_by_identity ON usage_records (identity, created_at);

CREATE TABLE api_keys (
  id          text PRIMARY KEY,
  key_hash    text NOT NULL UNIQUE,
  name        text NOT NULL DEFAULT '',
  tier        text NOT NULL DEFAULT 'default',
  created_at  int8 NOT NULL,
  revoked_at  int8
);
`;
