/** The configured Pusher apps, found by key (sockets) or id (HTTP API), with their connection counts on this node. */
import type { PusherAppConfig } from '../config/pusher.js';

export interface PusherApp extends PusherAppConfig {
  /** This app's open sockets on this node. */
  connections: number;
}

export class PusherApps {
  private readonly byKey = new Map<string, PusherApp>();
  private readonly byId = new Map<string, PusherApp>();

  constructor(apps: readonly PusherAppConfig[]) {
    for (const config of apps) {
      const app: PusherApp = { ...config, connections: 0 };
      this.byKey.set(app.key, app);
      this.byId.set(app.id, app);
    }
  }

  withKey(key: string): PusherApp | undefined {
    return this.byKey.get(key);
  }

  withId(id: string): PusherApp | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }
}
