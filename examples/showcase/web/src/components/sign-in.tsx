import { type FormEvent, useState } from 'react';
import { type SessionInfo, api } from '../api.js';

const SUGGESTED = ['alice', 'bob', 'carol'];

/** Demo sign-in: any name gets a session; the backend then signs real gateway JWTs for it. */
export function SignIn({ onSignedIn }: { onSignedIn: (s: SessionInfo) => void }) {
  const [name, setName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const signIn = async (user: string) => {
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await api<SessionInfo>('/api/signin', { body: { user } }));
    } catch (err) {
      setError((err as Error).message);
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void signIn(name);
  };

  return (
    <div className="signin">
      <form className="card signin-card" onSubmit={submit}>
        <svg className="signin-logo" viewBox="0 0 32 32" width="40" height="40" aria-hidden>
          <circle cx="16" cy="16" r="15" fill="currentColor" />
          <path d="M8 18c3-5 5-5 8 0s5 5 8 0" stroke="white" strokeWidth="3" fill="none" strokeLinecap="round" />
        </svg>
        <h1>Tidings showcase</h1>
        <p className="muted">Five real-time apps on one gateway: a live meeting, chat, background jobs, audio analysis and your devices. Sign in as anyone, then open a second window as someone else to see both sides.</p>
        <label className="field">
          <span>Your name</span>
          <input name="user" autoFocus value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. alice" autoComplete="off" />
        </label>
        {error ? <p className="error">{error}</p> : null}
        <button className="btn btn-primary btn-block" disabled={busy || !name.trim()}>
          Sign in
        </button>
        <div className="suggested">
          or continue as
          {SUGGESTED.map((u) => (
            <button type="button" key={u} className="chip" onClick={() => void signIn(u)} disabled={busy}>
              {u}
            </button>
          ))}
        </div>
      </form>
    </div>
  );
}
