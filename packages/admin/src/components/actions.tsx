import { type FormEvent, useState } from 'react';
import { api } from '../api.js';
import { Panel } from './panel.js';

type Outcome = { ok: boolean; text: string } | null;

function Result({ outcome, testId }: { outcome: Outcome; testId: string }) {
  if (!outcome) return null;
  return (
    <div className={`notice ${outcome.ok ? 'notice-ok' : 'notice-danger'}`} role="status" data-testid={testId}>
      {outcome.text}
    </div>
  );
}

function PublishForm({ onDone }: { onDone: () => void }) {
  const [channel, setChannel] = useState('');
  const [data, setData] = useState('{"text": "hello from the admin"}');
  const [outcome, setOutcome] = useState<Outcome>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    let parsed: unknown;
    try {
      parsed = JSON.parse(data);
    } catch {
      return setOutcome({ ok: false, text: 'Data must be valid JSON.' });
    }
    try {
      const pos = await api.publish(channel.trim(), parsed);
      onDone();
      setOutcome({ ok: true, text: pos.offset > 0 ? `Published to ${channel.trim()} at offset ${pos.offset}.` : `Published to ${channel.trim()} (no history).` });
    } catch (err) {
      setOutcome({ ok: false, text: (err as Error).message });
    }
  };
  return (
    <form className="form" onSubmit={(e) => void submit(e)} data-testid="publish-form">
      <h3>Publish a test message</h3>
      <label>
        Channel
        <input className="input mono" value={channel} onChange={(e) => setChannel(e.target.value)} placeholder="chat:lobby" required data-testid="publish-channel" />
      </label>
      <label>
        Data (JSON)
        <textarea className="input mono" rows={3} value={data} onChange={(e) => setData(e.target.value)} data-testid="publish-data" />
      </label>
      <button className="btn" type="submit">
        Publish
      </button>
      <Result outcome={outcome} testId="publish-result" />
    </form>
  );
}

function DisconnectForm({ onDone }: { onDone: () => void }) {
  const [user, setUser] = useState('');
  const [reconnect, setReconnect] = useState(false);
  const [outcome, setOutcome] = useState<Outcome>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    try {
      await api.disconnect(user.trim(), reconnect);
      onDone();
      setOutcome({ ok: true, text: `Disconnected every connection of ${user.trim()}${reconnect ? ' (they may reconnect)' : ''}.` });
    } catch (err) {
      setOutcome({ ok: false, text: (err as Error).message });
    }
  };
  return (
    <form className="form" onSubmit={(e) => void submit(e)} data-testid="disconnect-form">
      <h3>Disconnect a user</h3>
      <label>
        User id
        <input className="input mono" value={user} onChange={(e) => setUser(e.target.value)} placeholder="alice" required data-testid="disconnect-user" />
      </label>
      <label className="check">
        <input type="checkbox" checked={reconnect} onChange={(e) => setReconnect(e.target.checked)} /> Let them reconnect (close 3011 instead of 3503)
      </label>
      <button className="btn btn-danger" type="submit">
        Disconnect
      </button>
      <Result outcome={outcome} testId="disconnect-result" />
    </form>
  );
}

/** `onDone` runs after each action that changed something. */
export function ActionsPanel({ onDone }: { onDone: () => void }) {
  return (
    <Panel title="Actions" className="span-4" testId="actions">
      <PublishForm onDone={onDone} />
      <div className="divider" />
      <DisconnectForm onDone={onDone} />
    </Panel>
  );
}
