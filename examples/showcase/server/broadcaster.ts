/**
 * Publishing through the gateway's HTTP API (@tidings/publisher), one queue
 * per channel so a channel's publications keep their order, with retries
 * long enough to ride out a gateway restart.
 */
import { randomUUID } from 'node:crypto';
import { HttpPublisher } from '@tidings/publisher';

export class Broadcaster {
  private readonly publisher: HttpPublisher;
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(url: string, apiKey: string) {
    // About 40 s of retries: the gateway may be restarting under the app.
    this.publisher = new HttpPublisher({ url, apiKey, retries: 40, minDelayMs: 100, maxDelayMs: 1000, timeoutMs: 5000 });
  }

  /** Queue a publication on `channel` (or a user's personal channel with `user`); resolves when the gateway stored it. */
  publish(channel: string, data: unknown): Promise<unknown> {
    return this.enqueue(channel, () => this.publisher.publish(channel, data, randomUUID()));
  }

  toUser(user: string, data: unknown): Promise<unknown> {
    return this.enqueue(`#${user}`, () => this.publisher.publishToUser(user, data, randomUUID()));
  }

  private enqueue(key: string, send: () => Promise<unknown>): Promise<unknown> {
    const next = (this.tails.get(key) ?? Promise.resolve()).then(send, send);
    const tail = next.catch((err: unknown) => console.error(`showcase: publish to ${key} failed`, err));
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }

  /** Resolves once everything queued so far is published (or given up). */
  async idle(): Promise<void> {
    await Promise.all([...this.tails.values()]);
  }
}
