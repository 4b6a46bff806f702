// The Responses API over any chat-completions upstream: gather the history the request refers to
// (a conversation's items, or a chain of stored responses), fit it into the model's context
// window, run it through the ordinary chat pipeline (routing, failover, rerouting), and store what
// the caller asked to keep: the response (store) and the new turn in the conversation.
import { GatewayError } from '../core/errors.js';
import type { ChatMessage } from '../core/openai-types.js';
import { fitToContext } from '../history/fit-context.js';
import type { History, NewItem } from '../history/history.js';
import type { Identity } from '../identity/identity.js';
import { requireOwner } from '../identity/identity.js';
import { PromptSize } from '../router/prompt-size.js';
import { TOKENS_REPLY_PRIMING } from '../core/prompt-tokens.js';
import { itemsToMessages, newResponseId, normalizeInput, parseStoredItems, toChatRequest, type InputItem, type ResponseRequest } from '../responses/index.js';
import { resolveModel, runChat, type ChatReply, type PipelineDeps, type RequestContext } from './chat.js';

export interface ResponsesDeps extends PipelineDeps {
  history: () => Promise<History>;
}

/** Everything decided before the upstream is called, and what to store once it has answered. */
export interface PreparedResponse {
  id: string;
  createdAt: number;
  /** Effective: false for anonymous callers, who own nothing to store it under. */
  store: boolean;
  owner: string | undefined;
  conversationId: string | undefined;
  /** This request's own input items, ids assigned: stored with the response, appended to the conversation. */
  input: InputItem[];
  /** History items left out to fit the context window (whole turns, oldest first). */
  droppedMessages: number;
  reply: ChatReply;
}

/** Stored responses a chain is followed through at most (previous_response_id). */
const MAX_CHAIN = 1_000;
/** Items read per page when loading a conversation (one read for most conversations). */
const PAGE = 1_000;

export async function startResponse(deps: ResponsesDeps, request: ResponseRequest, identity: Identity, ctx: RequestContext): Promise<PreparedResponse> {
  const model = resolveModel(deps.catalog, request.model, 'chat');
  const conversationId = request.conversation;
  const needsOwner = conversationId !== undefined || request.previous_response_id !== undefined;
  const owner = needsOwner ? requireOwner(identity) : identity.kind === 'anonymous' ? undefined : identity.owner;
  const history = needsOwner || (request.store !== false && owner) ? await deps.history() : undefined;

  let earlier: readonly InputItem[] = [];
  if (history && owner && conversationId !== undefined) earlier = await conversationItems(history, owner, conversationId);
  else if (history && owner && request.previous_response_id !== undefined) earlier = await chainItems(history, owner, request.previous_response_id);

  const input = normalizeInput(request);
  let messages: ChatMessage[] = itemsToMessages(request.instructions, [...earlier, ...input]);
  let droppedMessages = 0;
  if (request.truncation !== 'disabled') {
    const window = model.config.card.context_length;
    const reserved = request.max_output_tokens ?? 0;
    const probe = toChatRequest(request, messages);
    if (!(await new PromptSize(probe).fits(window, reserved))) {
      // What comes with the messages (tools, a response schema), counted as the prompt counts it.
      const extra = (await new PromptSize({ ...probe, messages: [] }).tokens()) - TOKENS_REPLY_PRIMING;
      const fitted = await fitToContext(messages, window, reserved, extra);
      messages = fitted.messages;
      droppedMessages = fitted.dropped;
    }
  }
  const reply = await runChat(deps, toChatRequest(request, messages), ctx).catch((error: unknown) => {
    throw inResponsesTerms(error);
  });
  return {
    id: newResponseId(),
    createdAt: Math.floor(Date.now() / 1000),
    store: request.store !== false && owner !== undefined,
    owner,
    conversationId,
    input,
    droppedMessages,
    reply,
  };
}

/** Stores what the request asked to keep; the caller's success waits for it (durable or buffered). */
export async function keepResponse(deps: ResponsesDeps, prepared: PreparedResponse, request: ResponseRequest, response: Record<string, unknown>): Promise<void> {
  const { owner } = prepared;
  if (!owner) return;
  if (!prepared.store && prepared.conversationId === undefined) return;
  const history = await deps.history();
  const output = (response.output as Record<string, unknown>[] | undefined) ?? [];
  // Two writes that cannot be one: the response first. Should the second fail, the client is told
  // so and its retry appends the turn once; the other order would leave the turn in the
  // conversation, and a retry would add it twice.
  if (prepared.store) {
    await history.saveResponse({
      id: prepared.id,
      owner,
      conversationId: prepared.conversationId ?? null,
      previousResponseId: request.previous_response_id ?? null,
      model: String(response.model),
      status: String(response.status),
      body: response,
      inputItems: prepared.input,
      createdAt: prepared.createdAt * 1000,
    });
  }
  if (prepared.conversationId !== undefined) {
    const added = await history.appendItems(owner, prepared.conversationId, [...prepared.input, ...output].map(asNewItem));
    if (!added) throw conversationGone(prepared.conversationId);
  }
}

/** An item with its id as the store takes it: the id beside the body. */
function asNewItem(item: object): NewItem {
  const { id, ...body } = item as { id: string; type: string };
  return { id, type: body.type, body };
}

async function conversationItems(history: History, owner: string, id: string): Promise<InputItem[]> {
  const items: Record<string, unknown>[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await history.listItems(owner, id, { limit: PAGE, order: 'asc', ...(after ? { after } : {}) });
    if (!page) throw conversationGone(id);
    for (const row of page.data) items.push({ id: row.id, ...row.body });
    if (!page.hasMore || page.data.length === 0) return parseStoredItems(items, 'conversation');
    after = page.data.at(-1)!.id;
  }
}

/** The items of a chain of stored responses, oldest first: each one's input, then its output. */
async function chainItems(history: History, owner: string, lastId: string): Promise<InputItem[]> {
  const chain = [];
  let id: string | null = lastId;
  while (id !== null) {
    if (chain.length >= MAX_CHAIN) {
      throw new GatewayError(`This chain of responses is longer than ${MAX_CHAIN}; continue it in a conversation instead (the 'conversation' parameter).`, {
        status: 400, type: 'invalid_request_error', code: 'previous_response_chain_too_long', param: 'previous_response_id',
      });
    }
    const row = await history.getResponse(owner, id);
    if (!row) {
      throw new GatewayError(`Previous response with id '${id.slice(0, 100)}' not found.`, {
        status: 404, type: 'invalid_request_error', code: 'previous_response_not_found', param: 'previous_response_id',
      });
    }
    chain.push(row);
    id = row.previousResponseId;
  }
  chain.reverse();
  const items = chain.flatMap((row) => [...row.inputItems, ...((row.body as { output?: unknown[] }).output ?? [])]);
  return parseStoredItems(items, 'previous_response_id');
}

/** Chat's parameter names in an error, as the Responses API calls them. */
const RESPONSES_PARAM: Readonly<Record<string, string>> = {
  messages: 'input',
  response_format: 'text.format',
  max_tokens: 'max_output_tokens',
  max_completion_tokens: 'max_output_tokens',
};

function inResponsesTerms(error: unknown): unknown {
  if (!(error instanceof GatewayError) || error.param === null) return error;
  const [head, ...rest] = error.param.split(/(?=[.[])/);
  const renamed = head !== undefined ? RESPONSES_PARAM[head] : undefined;
  if (!renamed) return error;
  // A message's index counts the history and instructions too, so it would point the caller at
  // the wrong place in its own input: only the parameter is named.
  const param = head === 'messages' ? renamed : `${renamed}${rest.join('')}`;
  const copy = new GatewayError(error.message.replaceAll('response_format', 'text.format'), {
    status: error.status, type: error.type, code: error.code, param, retryable: error.retryable,
    ...(error.retryAfterSeconds !== undefined ? { retryAfterSeconds: error.retryAfterSeconds } : {}),
    ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
    ...(error.deployment !== undefined ? { deployment: error.deployment } : {}),
    cause: error,
  });
  copy.attempts = error.attempts;
  return copy;
}

function conversationGone(id: string): GatewayError {
  return new GatewayError(`Conversation with id '${id.slice(0, 100)}' not found.`, {
    status: 404, type: 'invalid_request_error', code: 'not_found', param: 'conversation',
  });
}

