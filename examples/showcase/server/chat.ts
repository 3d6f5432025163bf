/**
 * Seed 001: chat. A message is POSTed here, stored in SQLite, then broadcast
 * on `chat:<conversation>`. Opening a conversation loads its history from the
 * database; a tab that missed publications recovers them from the gateway, or
 * reloads from here when the gateway cannot replay them.
 */
import type { Broadcaster } from './broadcaster.js';
import { CONVERSATIONS, type ChatMessage, type Store } from './db.js';
import { HttpError, text } from './http.js';

export const chatChannel = (conversation: string) => `chat:${conversation}`;

export class Chat {
  constructor(
    private readonly store: Store,
    private readonly broadcaster: Broadcaster,
  ) {}

  conversations() {
    return CONVERSATIONS;
  }

  private check(conversation: string): string {
    if (!CONVERSATIONS.some((c) => c.id === conversation)) throw new HttpError(404, `no conversation ${conversation}`);
    return conversation;
  }

  history(conversation: string): ChatMessage[] {
    return this.store.messages(this.check(conversation));
  }

  /** Store, then broadcast. A retried POST (same clientKey) is stored and broadcast once. */
  async post(conversation: string, author: string, body: unknown): Promise<ChatMessage> {
    const content = text(body, 'text', 2000);
    const key = (body as { clientKey?: unknown }).clientKey;
    const clientKey = typeof key === 'string' && key.length <= 64 ? `${author}:${key}` : null;
    const { message, created } = this.store.addMessage(this.check(conversation), author, content, clientKey);
    if (created) void this.broadcaster.publish(chatChannel(conversation), { type: 'message', message });
    return message;
  }
}
