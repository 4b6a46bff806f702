// GET /v1/models and /v1/models/{id}: OpenAI's fields plus OpenRouter-style capability metadata.
import type { FastifyInstance } from 'fastify';
import { modelNotFound } from '../core/errors.js';
import type { ModelCatalog } from '../router/catalog.js';

export function modelRoutes(app: FastifyInstance, catalog: ModelCatalog): void {
  app.get('/v1/models', async () => ({ object: 'list', data: catalog.list() }));
  // Model ids may contain slashes (meta-llama/Llama-3.3-70B), hence the wildcard.
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (request) => {
    const id = request.params['*'];
    const model = catalog.get(id);
    if (!model) throw modelNotFound(id);
    return model.config.card;
  });
}
