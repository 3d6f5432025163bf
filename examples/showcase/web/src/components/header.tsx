import { useConnectionState } from '@tidings/react';
import { hue, initials } from '../api.js';

const LABELS = {
  connecting: 'Connecting',
  connected: 'Live',
  reconnecting: 'Reconnecting',
  failed: 'Connection failed',
  disconnected: 'Disconnected',
} as const;

/** The connection pill: the seeds' green/yellow indicator, with the transport in use. */
export function ConnectionPill() {
  const { state, transport, error } = useConnectionState();
  const title = error ? `${error.message} (code ${error.code})` : undefined;
  return (
    <span className={`pill pill-${state}`} data-testid="connection" data-state={state} data-transport={transport ?? ''} title={title}>
      <span className="dot" />
      {LABELS[state]}
      {state === 'connected' && transport ? <span className="pill-transport">{transport === 'sse' ? 'SSE' : 'WebSocket'}</span> : null}
    </span>
  );
}

export function Avatar({ name, size = 28 }: { name: string; size?: number }) {
  return (
    <span className="avatar" style={{ width: size, height: size, fontSize: size * 0.4, background: `hsl(${hue(name)} 60% 46%)` }} title={name}>
      {initials(name)}
    </span>
  );
}

interface HeaderProps {
  pages: ReadonlyArray<{ path: string; title: string }>;
  route: string;
  user: string;
  onSignOut: () => void;
}

export function Header({ pages, route, user, onSignOut }: HeaderProps) {
  const { state } = useConnectionState();
  return (
    <header className="header">
      <div className="brand">
        <span className="logo" aria-hidden>
          <svg viewBox="0 0 32 32" width="26" height="26">
            <circle cx="16" cy="16" r="15" fill="currentColor" />
            <path d="M8 18c3-5 5-5 8 0s5 5 8 0" stroke="white" strokeWidth="3" fill="none" strokeLinecap="round" />
          </svg>
        </span>
        Tidings <span className="brand-sub">showcase</span>
      </div>
      <nav className="nav">
        {pages.map((p) => (
          <a key={p.path} href={`#/${p.path}`} className={p.path === route ? 'active' : ''}>
            {p.title}
          </a>
        ))}
      </nav>
      <div className="header-right">
        <ConnectionPill />
        <span className="me">
          <Avatar name={user} size={26} />
          <span data-testid="me">{user}</span>
        </span>
        {/* The client gave up (state `failed`: the session expired): the way back is to sign in again. */}
        {state === 'failed' ? (
          <button className="btn btn-primary btn-sm" data-testid="sign-in-again" onClick={onSignOut}>
            Sign in again
          </button>
        ) : (
          <button className="btn btn-ghost btn-sm" onClick={onSignOut}>
            Sign out
          </button>
        )}
      </div>
    </header>
  );
}
