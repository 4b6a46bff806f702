// The Responses API over chat completions, as one import for the pipeline and the HTTP layer.
export { parseCreateResponse } from './request.js';
export { normalizeInput, normalizeItem, itemsToMessages } from './items.js';
export { toChatRequest } from './chat-request.js';
export { toResponse, failedResponse, inProgressResponse, type ResponseMeta } from './response.js';
export { responseEvents, formatSseEvent, streamErrorEvent } from './stream.js';
export { parseConversationItems, parseStoredItems, type ConversationItem } from './conversation-items.js';
export { newResponseId } from './ids.js';
export type * from './types.js';
