import type { Client } from '@tidings/client';
import { useClient, useConnectionState } from '@tidings/react';
import { api } from '../api.js';

const LABELS = { connecting: 'Connecting', connected: 'Live', reconnecting: 'Reconnecting', failed: 'Disconnected', disconnected: 'Offline' } as const;

function ConnectionPill() {
  const { state, error } = useConnectionState();
  const title = error ? `${error.message} (code ${error.code})` : undefined;
  return (
    <span className={`pill pill-${state}`} data-testid="connection" data-state={state} title={title}>
      <span className="dot" />
      {LABELS[state]}
    </span>
  );
}

/** Close the live connection first: once the session is revoked, a reconnect would only fetch a token to be refused (401). */
async function signOut(client: Client): Promise<void> {
  client.disconnect();
  await api.logout().catch(() => {});
  location.assign('/admin');
}

export function Header(props: { nodes: number }) {
  const { state, error } = useConnectionState();
  const client = useClient();
  return (
    <>
      <header className="topbar">
        <div className="brand">
          <svg viewBox="0 0 32 32" width="22" height="22" aria-hidden>
            <circle cx="16" cy="16" r="14" fill="#3d71d9" />
            <path d="M8 18c3-5 5-5 8 0s5 5 8 0" stroke="#fff" strokeWidth="3" fill="none" strokeLinecap="round" />
          </svg>
          <span className="brand-name">Tidings</span>
          <span className="brand-sub">Admin</span>
          <span className="crumb">/ {location.host}</span>
        </div>
        <div className="topbar-right">
          <span className="muted">{props.nodes === 1 ? '1 node reporting' : `${props.nodes} nodes reporting`}</span>
          <ConnectionPill />
          <button className="btn btn-ghost" onClick={() => void signOut(client)} data-testid="sign-out">
            Sign out
          </button>
        </div>
      </header>
      {state === 'reconnecting' ? (
        <div className="banner banner-warning" role="status">
          Connection to the gateway lost{error ? ` (${error.message})` : ''}. Reconnecting…{' '}
          {props.nodes > 0 ? 'The numbers below are frozen until it is back.' : 'Live numbers appear once it is back.'}
        </div>
      ) : null}
      {state === 'failed' ? (
        <div className="banner banner-danger" role="alert" data-testid="failed">
          The live connection stopped{error ? `: ${error.message.replace(/\.$/, '')}` : ''}.{' '}
          <a href="/admin">Sign in again</a>
        </div>
      ) : null}
    </>
  );
}
