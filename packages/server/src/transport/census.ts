/** Connections, users and subscriptions by transport, counted over the open sessions when /metrics is scraped. */
import type { Session } from '../session/session.js';

export interface TransportCensus {
  transport: string;
  connections: number;
  users: number;
  subscriptions: number;
}

export function census(sessions: Iterable<Session>): TransportCensus[] {
  const rows = new Map<string, { connections: number; users: Set<string>; subscriptions: number }>([
    ['websocket', { connections: 0, users: new Set(), subscriptions: 0 }],
    ['sse', { connections: 0, users: new Set(), subscriptions: 0 }],
  ]);
  for (const s of sessions) {
    const row = rows.get(s.transport.kind)!;
    row.connections++;
    if (s.state === 'connected') row.users.add(s.user);
    row.subscriptions += s.subs.size;
  }
  return [...rows].map(([transport, r]) => ({ transport, connections: r.connections, users: r.users.size, subscriptions: r.subscriptions }));
}
