/** The registry of a single node: it knows only the nodes that announced in this process. Contract: nodes.ts. */
import type { NodeInfo, NodeRegistry } from './nodes.js';

export class MemoryNodes implements NodeRegistry {
  private readonly nodes = new Map<string, NodeInfo>();

  constructor(private readonly ttlMs = 15_000) {}

  async announce(node: NodeInfo): Promise<void> {
    this.nodes.set(node.id, node);
  }

  async list(): Promise<NodeInfo[]> {
    const cutoff = Date.now() - this.ttlMs;
    for (const [id, node] of this.nodes) if (node.updated < cutoff) this.nodes.delete(id);
    return [...this.nodes.values()].sort((a, b) => a.id.localeCompare(b.id));
  }
}
