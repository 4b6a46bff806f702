// The configuration a fresh `npm start` uses when no provider is configured: every simulated
// model, served by an in-process simulator, with the simulator's own (honest) capability data.
import { SIM_MODELS } from '../simulator/models.js';
import { resolveConfig, type Config } from './config.js';
import { validateRaw } from './load.js';

export function simulatedConfig(simulatorUrl: string): Config {
  const deployments: Record<string, unknown> = {};
  const models: Record<string, unknown> = {};
  for (const model of SIM_MODELS) {
    deployments[`simulator:${model.id}`] = { provider: 'simulator', model: model.id };
    models[model.id] = {
      type: model.kind,
      deployments: [`simulator:${model.id}`],
      owned_by: 'floodgate-simulator',
      context_length: model.context_length,
      input_modalities: model.input_modalities,
      output_modalities: model.output_modalities,
      supported_parameters: model.supported_parameters,
    };
  }
  const raw = validateRaw({ providers: { simulator: { base_url: simulatorUrl } }, deployments, models });
  return resolveConfig(raw, { kind: 'simulator' });
}
