/**
 * The shell: demo sign-in, then one <TidingsProvider> (one connection) for
 * every page, a header with the connection state, and hash routing.
 */
import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import { UnauthorizedError } from '@tidings/client';
import { TidingsProvider } from '@tidings/react';
import { ApiError, type SessionInfo, api, deviceName, saveSession, savedSession } from './api.js';
import { Header } from './components/header.js';
import { SignIn } from './components/sign-in.js';
import { AnalysisPage } from './pages/analysis.js';
import { ChatPage } from './pages/chat.js';
import { DevicesPage } from './pages/devices.js';
import { JobsPage } from './pages/jobs.js';
import { MeetingPage } from './pages/meeting.js';

export const PAGES = [
  { path: 'meeting', title: 'Live meeting', Page: MeetingPage },
  { path: 'chat', title: 'Chat', Page: ChatPage },
  { path: 'jobs', title: 'Background jobs', Page: JobsPage },
  { path: 'analysis', title: 'Audio analysis', Page: AnalysisPage },
  { path: 'devices', title: 'Devices', Page: DevicesPage },
] as const;

type Transport = 'websocket' | 'sse';
const TRANSPORT_KEY = 'tidings-showcase:transport';

interface AppContextValue {
  user: string;
  device: string;
  transport: Transport;
  setTransport: (t: Transport) => void;
}

const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const v = useContext(AppContext);
  if (!v) throw new Error('useApp outside <App>');
  return v;
}

function useHashRoute(): string {
  const read = () => window.location.hash.replace(/^#\/?/, '').split('/')[0] || 'meeting';
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

let token: { value: string; exp: number } | null = null;

/**
 * A gateway token from the backend, reused while it has a minute left: each
 * reconnect attempt asks for one, and a restarting gateway should not turn
 * into a burst of token requests. Expiring tokens are refreshed by the client.
 * A 401 (the app session expired) throws UnauthorizedError: the client stops
 * in `failed` and the header offers to sign in again.
 */
async function cachedToken(): Promise<string> {
  if (token && token.exp - Date.now() > 60_000) return token.value;
  let value: string;
  try {
    ({ token: value } = await api<{ token: string }>('/api/token'));
  } catch (err) {
    // An expired or missing session will not get better by retrying: stop the client (state `failed`).
    if (err instanceof ApiError && err.status === 401) throw new UnauthorizedError(err.message);
    throw err;
  }
  const claims = JSON.parse(atob(value.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as { exp?: number };
  token = { value, exp: (claims.exp ?? 0) * 1000 };
  return value;
}

export function App() {
  const [session, setSession] = useState<SessionInfo | null>(savedSession);
  const [gatewayUrl, setGatewayUrl] = useState<string | null>(null);
  const [transport, setTransportState] = useState<Transport>(() => (sessionStorage.getItem(TRANSPORT_KEY) === 'sse' ? 'sse' : 'websocket'));
  const route = useHashRoute();

  useEffect(() => {
    void api<{ gatewayUrl: string }>('/api/config').then((c) => setGatewayUrl(c.gatewayUrl));
  }, []);

  const setTransport = useCallback((t: Transport) => {
    sessionStorage.setItem(TRANSPORT_KEY, t);
    setTransportState(t);
  }, []);

  const signIn = (s: SessionInfo) => {
    saveSession(s);
    setSession(s);
  };
  const signOut = () => {
    token = null;
    saveSession(null);
    setSession(null);
  };
  const getToken = useCallback(() => cachedToken(), []);

  if (!session) return <SignIn onSignedIn={signIn} />;
  if (!gatewayUrl) return <div className="boot">Loading…</div>;
  const page = PAGES.find((p) => p.path === route) ?? PAGES[0];
  return (
    <AppContext.Provider value={{ user: session.user, device: deviceName(), transport, setTransport }}>
      {/* A new transport choice means a new client: remount the provider. */}
      <TidingsProvider key={transport} url={gatewayUrl} getToken={getToken} transports={[transport]} maxReconnectDelay={2000}>
        <div className="app">
          <Header pages={PAGES} route={page.path} user={session.user} onSignOut={signOut} />
          <main className="main">
            <page.Page />
          </main>
        </div>
      </TidingsProvider>
    </AppContext.Provider>
  );
}
