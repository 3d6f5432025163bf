/**
 * What the generator says to each server under test. Every adapter does the
 * same job: after the upgrade, authenticate with the connection's JWT and
 * join `conn.channel` in one round trip, answer pings, and tell data frames
 * (publications) from control frames by their first bytes.
 */

function startsWith(buf, s, prefix) {
  for (let i = 0; i < prefix.length; i++) if (buf[s + i] !== prefix[i]) return false;
  return true;
}

const text = (buf, s, e) => buf.toString('utf8', s, e);

/** Tidings protocol v1: `connect` with the token and `subs` (with `since` when recovering). */
const TIDINGS_PUB = Buffer.from('{"type":"pub"');
const TIDINGS_REPLY = Buffer.from('{"id":1,"result"');
const TIDINGS_PING = Buffer.from('{"type":"ping"');
export const tidings = {
  name: 'tidings',
  path: () => '/ws',
  isData: (buf, s) => startsWith(buf, s, TIDINGS_PUB),
  onOpen(conn) {
    const sub = conn.channel ? [{ channel: conn.channel, ...(conn.since ? { since: conn.since } : {}) }] : [];
    conn.send(JSON.stringify({ id: 1, method: 'connect', params: { token: conn.token, protocol: 1, subs: sub } }));
  },
  onControl(conn, buf, s, e) {
    if (startsWith(buf, s, TIDINGS_REPLY)) return conn.ready(conn.onReply ? conn.onReply(buf, s, e) : undefined);
    if (startsWith(buf, s, TIDINGS_PING)) return conn.send('{"method":"pong"}');
    const frame = JSON.parse(text(buf, s, e));
    if (frame.id === 1) conn.fail(new Error(`connect refused: ${JSON.stringify(frame.error)}`));
    else if (frame.type === 'disconnect') conn.disconnectPush = frame;
    else if (frame.type === 'unsub') conn.fail(new Error(`unsubscribed: ${frame.reason}`));
  },
};

/** Engine.IO v4 / Socket.IO v5 over a bare WebSocket: open `0{…}`, `40{auth}` → `40{sid}`, events `42[…]`, ping `2` → `3`. */
const SIO_EVENT = Buffer.from('42["pub",');
export const socketio = {
  name: 'socketio',
  path: () => '/socket.io/?EIO=4&transport=websocket',
  isData: (buf, s) => startsWith(buf, s, SIO_EVENT),
  onOpen() {},
  onControl(conn, buf, s, e) {
    const t = text(buf, s, e);
    if (t === '2') return conn.send('3');
    if (t.startsWith('0{')) return conn.send(`40${JSON.stringify({ token: conn.token, channel: conn.channel })}`);
    if (t.startsWith('40')) return conn.ready();
    if (t.startsWith('44')) return conn.fail(new Error(`connect refused: ${t.slice(2)}`));
  },
};

/** The bare `ws` peers: first message `{token, channel}`, answered `{"ok":true}`. */
const WS_PUB = Buffer.from('{"channel"');
export const ws = {
  name: 'ws',
  path: () => '/ws',
  isData: (buf, s) => startsWith(buf, s, WS_PUB),
  onOpen(conn) {
    conn.send(JSON.stringify({ token: conn.token, channel: conn.channel }));
  },
  onControl(conn, buf, s, e) {
    const t = text(buf, s, e);
    if (t === '{"ok":true}') return conn.ready();
    conn.fail(new Error(`refused: ${t}`));
  },
};
