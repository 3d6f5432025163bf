/**
 * Per-hook Prometheus metrics. Made unregistered, so the hooks can count from
 * the start; the gateway adds them to the registry /metrics serves.
 */
import { Counter, Histogram, type Registry } from 'prom-client';

export type HookName = 'connect' | 'subscribe' | 'publish' | 'refresh';
/** How one call ended: the backend's yes or no, or why it failed. */
export type HookOutcome = 'allowed' | 'refused' | 'timeout' | 'unreachable' | 'status' | 'answer' | 'overloaded';

export class HookMetrics {
  private readonly calls = new Counter({
    name: 'tidings_hook_calls_total',
    help: 'Hook calls by hook and outcome (allowed, refused, or the failure: timeout, unreachable, status, answer, overloaded)',
    labelNames: ['hook', 'outcome'],
    registers: [],
  });
  private readonly retries = new Counter({ name: 'tidings_hook_retries_total', help: 'Hook attempts after the first', labelNames: ['hook'], registers: [] });
  private readonly cacheHits = new Counter({ name: 'tidings_hook_cache_hits_total', help: 'Hook verdicts served from the cache', labelNames: ['hook'], registers: [] });
  private readonly seconds = new Histogram({
    name: 'tidings_hook_duration_seconds',
    help: 'Hook call time, retries included (cache hits not counted)',
    labelNames: ['hook'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [],
  });

  registerOn(registry: Registry): void {
    for (const m of [this.calls, this.retries, this.cacheHits, this.seconds]) registry.registerMetric(m);
  }

  called(hook: HookName, outcome: HookOutcome, ms: number): void {
    this.calls.inc({ hook, outcome });
    this.seconds.observe({ hook }, ms / 1000);
  }

  retried(hook: HookName): void {
    this.retries.inc({ hook });
  }

  cacheHit(hook: HookName): void {
    this.cacheHits.inc({ hook });
  }
}
