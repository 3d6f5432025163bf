/** The node registry in one Redis hash: node id → its latest announcement. Contract: nodes.ts. */
import type { RedisClient } from './redis-topology.js';
import type { NodeInfo, NodeRegistry } from './nodes.js';

export class RedisNodes implements NodeRegistry {
  constructor(
    private readonly cmd: RedisClient,
    private readonly key: string,
    private readonly ttlMs: number,
  ) {}

  async announce(node: NodeInfo): Promise<void> {
    await this.cmd.hset(this.key, node.id, JSON.stringify(node)).catch(() => {});
  }

  async list(): Promise<NodeInfo[]> {
    const all = await this.cmd.hgetall(this.key);
    const cutoff = Date.now() - this.ttlMs;
    const live: NodeInfo[] = [];
    for (const [id, json] of Object.entries(all)) {
      const node = JSON.parse(json) as NodeInfo;
      if (node.updated >= cutoff) live.push(node);
      else void this.cmd.hdel(this.key, id).catch(() => {});
    }
    return live.sort((a, b) => a.id.localeCompare(b.id));
  }
}
