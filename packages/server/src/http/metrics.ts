/**
 * Prometheus metrics at /metrics. Values are read from the hub when scraped,
 * so the message path pays nothing for them.
 */
import type { ServerResponse } from 'node:http';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Hub } from '../hub/hub.js';

/** A counter that mirrors a monotonically growing number read at scrape time. */
function mirroredCounter(registry: Registry, name: string, help: string, read: () => number): void {
  let seen = 0;
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      const now = read();
      if (now > seen) this.inc(now - seen);
      seen = now;
    },
  });
}

export function createMetrics(hub: Hub, connections: () => number) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  new Gauge({ name: 'tidings_connections', help: 'Open client connections', registers: [registry], collect() { this.set(connections()); } });
  new Gauge({ name: 'tidings_users', help: 'Distinct connected users', registers: [registry], collect() { this.set(hub.userCount); } });
  new Gauge({ name: 'tidings_channels', help: 'Channels with local subscribers', registers: [registry], collect() { this.set(hub.channelCount); } });
  mirroredCounter(registry, 'tidings_publications_total', 'Publications fanned out by this node', () => hub.publications);
  mirroredCounter(registry, 'tidings_deliveries_total', 'Publications queued to subscribers', () => hub.deliveries);
  return {
    registry,
    async serve(res: ServerResponse): Promise<void> {
      const text = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType });
      res.end(text);
    },
  };
}
