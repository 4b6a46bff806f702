// Provider kinds by name. New upstream formats (anthropic, gemini) register here, nothing else changes.
import { Agent, type Dispatcher } from 'undici';
import type { DeploymentSettings, ProviderKind, ProviderSettings, UpstreamModel } from './types.js';
import { openAICompatible } from './openai-compatible/adapter.js';
import { gemini } from './gemini/adapter.js';
import { anthropic } from './anthropic/adapter.js';

export class ProviderRegistry {
  private readonly kinds = new Map<string, ProviderKind>();
  private readonly transports = new Map<string, Dispatcher>();

  constructor(kinds: ProviderKind[] = [openAICompatible, gemini, anthropic]) {
    for (const kind of kinds) this.kinds.set(kind.kind, kind);
  }

  has(kind: string): boolean {
    return this.kinds.has(kind);
  }

  bind(provider: ProviderSettings, deployment: DeploymentSettings): UpstreamModel {
    const kind = this.kinds.get(provider.kind);
    if (!kind) throw new Error(`unknown provider kind "${provider.kind}"`);
    return kind.create(provider, deployment, this.transportFor(provider));
  }

  /** One keep-alive pool set per provider, shared by all its deployments. */
  private transportFor(provider: ProviderSettings): Dispatcher {
    let transport = this.transports.get(provider.name);
    if (!transport) {
      transport = new Agent({
        connections: provider.maxConnections,
        connectTimeout: provider.timeouts.connectMs,
        headersTimeout: provider.timeouts.firstByteMs,
        bodyTimeout: provider.timeouts.idleMs,
        keepAliveTimeout: 30_000,
        pipelining: 1,
      });
      this.transports.set(provider.name, transport);
    }
    return transport;
  }

  async close(): Promise<void> {
    await Promise.all([...this.transports.values()].map((t) => t.close()));
    this.transports.clear();
  }
}
