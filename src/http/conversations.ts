// The Conversations API as OpenAI defines it (create with items and metadata, retrieve, update
// metadata, delete; list, add, retrieve and delete items) plus GET /v1/conversations, which
// OpenAI lacks and a chat app needs: the caller's conversations newest first, without items.
// Every route is scoped by the caller's identity; another caller's conversation is a 404, exactly
// like a missing one.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { GatewayError } from '../core/errors.js';
import type { History } from '../history/history.js';
import { requireOwner } from '../identity/identity.js';
import { parseConversationItems } from '../responses/conversation-items.js';
import { parseMetadata } from '../responses/request.js';
import { conversationResource, itemResource } from './stored-shapes.js';
import { listEnvelope, parseListQuery } from './list-query.js';

export interface StateDeps {
  /** Opens storage on first use. */
  history: () => Promise<History>;
}

type IdParams = { Params: { id: string } };

export const MAX_ITEMS_PAGE = 1_000;
type ItemParams = { Params: { id: string; item: string } };

export function conversationRoutes(app: FastifyInstance, deps: StateDeps): void {
  const owner = (request: FastifyRequest): string => requireOwner(request.identity);

  app.post('/v1/conversations', async (request) => {
    const who = owner(request);
    const body = objectBody(request.body);
    const metadata = parseMetadata(body.metadata);
    const items = body.items === undefined || body.items === null ? [] : parseConversationItems(body.items, 'items');
    const history = await deps.history();
    const { conversation } = await history.createConversation(who, metadata, items);
    return conversationResource(conversation);
  });

  app.get('/v1/conversations', async (request) => {
    const who = owner(request);
    const page = parseListQuery(request.query);
    const history = await deps.history();
    const found = await history.listConversations(who, page);
    return listEnvelope(found.data.map(conversationResource), found.hasMore);
  });

  app.get<IdParams>('/v1/conversations/:id', async (request) => {
    const history = await deps.history();
    const conversation = await history.getConversation(owner(request), request.params.id);
    if (!conversation) throw conversationNotFound(request.params.id);
    return conversationResource(conversation);
  });

  app.post<IdParams>('/v1/conversations/:id', async (request) => {
    const who = owner(request);
    const body = objectBody(request.body);
    if (!('metadata' in body)) throw new GatewayError("Missing required parameter: 'metadata'.", { status: 400, type: 'invalid_request_error', code: 'missing_required_parameter', param: 'metadata' });
    const metadata = parseMetadata(body.metadata);
    const history = await deps.history();
    const conversation = await history.updateConversation(who, request.params.id, metadata);
    if (!conversation) throw conversationNotFound(request.params.id);
    return conversationResource(conversation);
  });

  app.delete<IdParams>('/v1/conversations/:id', async (request) => {
    const history = await deps.history();
    if (!(await history.deleteConversation(owner(request), request.params.id))) throw conversationNotFound(request.params.id);
    return { id: request.params.id, object: 'conversation.deleted', deleted: true };
  });

  app.get<IdParams>('/v1/conversations/:id/items', async (request) => {
    const who = owner(request);
    // Up to 1,000 items per page (OpenAI: 100), so a chat app that reconnects loads a long
    // conversation in one request rather than ten.
    const page = parseListQuery(request.query, { maxLimit: MAX_ITEMS_PAGE });
    const history = await deps.history();
    const found = await history.listItems(who, request.params.id, page);
    if (!found) throw conversationNotFound(request.params.id);
    return listEnvelope(found.data.map(itemResource), found.hasMore);
  });

  app.post<IdParams>('/v1/conversations/:id/items', async (request) => {
    const who = owner(request);
    const body = objectBody(request.body);
    if (!Array.isArray(body.items)) throw new GatewayError("'items' must be an array of up to 20 items.", { status: 400, type: 'invalid_request_error', code: 'invalid_type', param: 'items' });
    const items = parseConversationItems(body.items, 'items');
    const history = await deps.history();
    const added = await history.appendItems(who, request.params.id, items);
    if (!added) throw conversationNotFound(request.params.id);
    // OpenAI answers with the added items as a list.
    return listEnvelope(added.map(itemResource), false);
  });

  app.get<ItemParams>('/v1/conversations/:id/items/:item', async (request) => {
    const history = await deps.history();
    const item = await history.getItem(owner(request), request.params.id, request.params.item);
    if (!item) throw itemNotFound(request.params.item);
    return itemResource(item);
  });

  app.delete<ItemParams>('/v1/conversations/:id/items/:item', async (request) => {
    const who = owner(request);
    const history = await deps.history();
    if (!(await history.deleteItem(who, request.params.id, request.params.item))) throw itemNotFound(request.params.item);
    // OpenAI answers an item deletion with the conversation it was removed from.
    const conversation = await history.getConversation(who, request.params.id);
    if (!conversation) throw conversationNotFound(request.params.id);
    return conversationResource(conversation);
  });
}

/** The request body as an object (an absent body counts as empty, for create with no fields). */
export function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new GatewayError('The request body must be a JSON object.', { status: 400, type: 'invalid_request_error', code: 'invalid_type' });
  }
  return body as Record<string, unknown>;
}

export function conversationNotFound(id: string): GatewayError {
  return new GatewayError(`Conversation with id '${id.slice(0, 100)}' not found.`, { status: 404, type: 'invalid_request_error', code: 'not_found', param: 'conversation_id' });
}

function itemNotFound(id: string): GatewayError {
  return new GatewayError(`Item with id '${id.slice(0, 100)}' not found.`, { status: 404, type: 'invalid_request_error', code: 'not_found', param: 'item_id' });
}
