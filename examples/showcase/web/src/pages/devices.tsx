/**
 * Seed 004: one user on several devices (open this page in two tabs signed in
 * as the same person). Joining the session shows up on every device
 * (presence), so does typing (signals) and the mood widget (app state on
 * `devices:#<me>`); notifications go to the personal channel, which every
 * connection of the user receives.
 */
import { useCallback, useEffect, useState } from 'react';
import type { Publication } from '@tidings/client';
import { useChannelState, useClient, useConnectionState, usePresence, useTyping } from '@tidings/react';
import { api, timeOf } from '../api.js';
import { useApp } from '../app.js';
import { type IconName, Icon } from '../components/icons.js';
import { Badge, Card, Empty, PageHeader, TypingLine } from '../components/ui.js';

const MOODS = [
  { id: 'focused', icon: 'target' },
  { id: 'in a meeting', icon: 'calendar' },
  { id: 'on a break', icon: 'coffee' },
  { id: 'away', icon: 'moon' },
] as const;

interface Mood {
  mood: string;
  note: string;
  device: string;
  at: number;
}

interface Notification {
  id: string;
  title: string;
  body: string;
  from: string;
  at: number;
}

function reduceMood(m: Mood | null, pub: Publication<{ type: 'mood' } & Mood>): Mood | null {
  const { type: _t, ...next } = pub.data;
  return m && m.at > next.at ? m : next;
}

/** Notifications from the personal channel, reloaded from the backend when the channel could not be recovered. */
function useNotifications(): Notification[] {
  const client = useClient();
  const [list, setList] = useState<Notification[]>([]);
  const load = useCallback(() => {
    void api<{ notifications: Notification[] }>('/api/devices/notifications').then((r) =>
      setList((cur) => merge(r.notifications, cur)),
    );
  }, []);
  useEffect(() => {
    load();
    const offPub = client.on('publication', (pub) => {
      const d = pub.data as { type?: string; notification?: Notification };
      if (d?.type === 'notification' && d.notification) setList((cur) => merge(cur, [d.notification!]));
    });
    const offSub = client.on('subscribed', (ctx) => {
      if (ctx.wasRecovering && !ctx.recovered) load();
    });
    return () => {
      offPub();
      offSub();
    };
  }, [client, load]);
  return list;
}

function merge(a: Notification[], b: Notification[]): Notification[] {
  const byId = new Map([...a, ...b].map((n) => [n.id, n]));
  return [...byId.values()].sort((x, y) => x.at - y.at);
}

/** The icon for a device name ("Tablet x1z" → tablet); a neutral monitor for anything unknown. */
function deviceIcon(device: string): IconName {
  const kind = device.split(' ')[0]!.toLowerCase();
  return kind === 'laptop' || kind === 'phone' || kind === 'tablet' || kind === 'watch' ? kind : 'desktop';
}

export function DevicesPage() {
  const { user, device } = useApp();
  const conn = useConnectionState();
  const [joined, setJoined] = useState(false);
  const sessionChannel = joined ? `session:#${user}` : null;
  const inSession = usePresence(sessionChannel);
  const devices = usePresence(`devices:#${user}`);
  const { typists, setTyping } = useTyping(sessionChannel);
  const { state: mood } = useChannelState<Mood | null, { type: 'mood' } & Mood>(`devices:#${user}`, reduceMood, {
    initial: null,
    load: async () => ({ state: (await api<{ mood: Mood | null }>('/api/devices/mood')).mood }),
  });
  const notifications = useNotifications();
  const [note, setNote] = useState('');
  const [title, setTitle] = useState('Build finished');

  const me = conn.session?.client;
  const otherTypists = typists.filter((t) => t.client !== me);
  const deviceOf = (info: unknown) => (info as { device?: string } | undefined)?.device ?? 'a device';

  const setMood = (m: string) => void api('/api/devices/mood', { body: { mood: m, note: mood?.note ?? '', device } });
  const notify = () => void api('/api/devices/notifications', { body: { title, body: `Sent from ${device} at ${timeOf(Date.now())}`, device } });

  return (
    <>
      <PageHeader title="Devices" subtitle={`Everything here follows ${user} across tabs and devices. Open this page in a second tab signed in as ${user}.`}>
        <span className="device-tag">
          This device: <strong data-testid="device">{device}</strong>
        </span>
      </PageHeader>
      <div className="grid grid-devices">
        <Card title="Your devices" extra={<span className="muted small">{devices.length} connected</span>}>
          <ul className="device-list" data-testid="devices">
            {devices.map((d) => (
              <li key={d.client}>
                <span className="device-icon">
                  <Icon name={deviceIcon(deviceOf(d.info))} size={18} />
                </span>
                {deviceOf(d.info)}
                {d.client === me ? <Badge tone="neutral">this one</Badge> : null}
              </li>
            ))}
          </ul>
        </Card>
        <Card title="Mood" extra={mood ? <span className="muted small">set on {mood.device} at {timeOf(mood.at)}</span> : null}>
          <div className="moods" data-testid="mood" data-mood={mood?.mood ?? ''}>
            {MOODS.map((m) => (
              <button key={m.id} className={`mood ${mood?.mood === m.id ? 'active' : ''}`} onClick={() => setMood(m.id)} data-mood-option={m.id}>
                <span className="mood-icon">
                  <Icon name={m.icon} />
                </span>
                {m.id[0]!.toUpperCase() + m.id.slice(1)}
              </button>
            ))}
          </div>
          {!mood ? <p className="muted small">No mood set yet: pick one, and every device shows it.</p> : null}
        </Card>
        <Card
          title="Session"
          extra={
            <button className={`btn btn-sm ${joined ? 'btn-ghost' : 'btn-primary'}`} onClick={() => setJoined((j) => !j)} data-testid="session-toggle">
              {joined ? 'Leave session' : 'Join session'}
            </button>
          }
        >
          {joined ? (
            <>
              <div className="muted small">In the session:</div>
              <ul className="device-list" data-testid="session-members">
                {inSession.map((d) => (
                  <li key={d.client} data-device={deviceOf(d.info)}>
                    <span className="live-dot" />
                    {deviceOf(d.info)}
                    {d.client === me ? <Badge tone="neutral">you</Badge> : null}
                  </li>
                ))}
              </ul>
              <textarea
                className="notes"
                placeholder="Shared scratchpad: your other devices see when you type"
                value={note}
                onChange={(e) => {
                  setNote(e.target.value);
                  setTyping(e.target.value.length > 0);
                }}
                onBlur={() => setTyping(false)}
                data-testid="session-notes"
              />
              <TypingLine names={otherTypists.map((t) => deviceOf(t.info))} testId="session-typing" className="session-typing" />
            </>
          ) : (
            <Empty icon="link" title="Not in the session">
              Join to see which of your devices are in it.
            </Empty>
          )}
        </Card>
        <Card title="Notifications" extra={<span className="muted small">{notifications.length}</span>}>
          <div className="row">
            <input value={title} onChange={(e) => setTitle(e.target.value)} maxLength={80} data-testid="notify-title" />
            <button className="btn btn-primary" onClick={notify} disabled={!title.trim()} data-testid="notify">
              Notify all my devices
            </button>
          </div>
          {notifications.length === 0 ? (
            <Empty icon="bell" title="No notifications">
              A notification sent here reaches every device you are signed in on.
            </Empty>
          ) : (
            <ul className="notifications" data-testid="notifications">
              {[...notifications].reverse().map((n) => (
                <li key={n.id} data-notification={n.id}>
                  <strong>{n.title}</strong>
                  <span className="muted small">
                    {n.body}
                  </span>
                </li>
              ))}
            </ul>
          )}
        </Card>
      </div>
    </>
  );
}
