/**
 * Bare `ws` peers. Each publication is framed once (one buffer: header +
 * payload) and the same bytes go to every subscriber of its channel.
 *
 *   default     one socket.write per subscriber per publication: the usual
 *               "frame once, write to all" broadcast;
 *   --coalesce  frames due to one socket within an event-loop turn are joined
 *               and written in one call in setImmediate (no timer delay):
 *               the practical ceiling for a Node server.
 *
 * No backpressure handling: a slow reader grows memory. Fine for a ceiling.
 */
import { WebSocketServer } from 'ws';
import { createPeerHttp, exitOnSigterm, peerArgs, verifyHs256 } from './peer-common.mjs';

const { port, host, coalesce } = peerArgs();
/** channel → Set of raw net.Socket */
const channels = new Map();

/** One unmasked text frame holding `text`. */
function frame(text) {
  const len = Buffer.byteLength(text);
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const buf = Buffer.allocUnsafe(head + len);
  buf[0] = 0x81;
  if (head === 2) buf[1] = len;
  else if (head === 4) {
    buf[1] = 126;
    buf.writeUInt16BE(len, 2);
  } else {
    buf[1] = 127;
    buf.writeBigUInt64BE(BigInt(len), 2);
  }
  buf.write(text, head);
  return buf;
}

// Coalescing: per-socket pending frames, flushed once per turn.
const dirty = [];
let scheduled = false;
function flushAll() {
  scheduled = false;
  for (const socket of dirty) {
    const list = socket.benchPending;
    socket.benchPending = null;
    if (!socket.destroyed) socket.write(list.length === 1 ? list[0] : Buffer.concat(list));
  }
  dirty.length = 0;
}
function queue(socket, bytes) {
  if (socket.benchPending) return socket.benchPending.push(bytes);
  socket.benchPending = [bytes];
  dirty.push(socket);
  if (!scheduled) {
    scheduled = true;
    setImmediate(flushAll);
  }
}

function publish(channel, data) {
  const subs = channels.get(channel);
  if (!subs) return;
  const bytes = frame(`{"channel":${JSON.stringify(channel)},"data":${JSON.stringify(data)}}`);
  if (coalesce) for (const socket of subs) queue(socket, bytes);
  else for (const socket of subs) if (!socket.destroyed) socket.write(bytes);
}

const http = createPeerHttp(publish);
const wss = new WebSocketServer({ server: http, path: '/ws', perMessageDeflate: false, clientTracking: false });
wss.on('connection', (ws) => {
  const socket = ws._socket;
  let channel;
  ws.once('message', (msg) => {
    let hello;
    try {
      hello = JSON.parse(msg.toString());
    } catch {
      return ws.close(1008);
    }
    if (!verifyHs256(hello.token)) return ws.close(1008, 'invalid token');
    channel = hello.channel;
    if (channel) {
      if (!channels.has(channel)) channels.set(channel, new Set());
      channels.get(channel).add(socket);
    }
    ws.send('{"ok":true}');
  });
  ws.on('close', () => {
    const subs = channels.get(channel);
    if (!subs) return;
    subs.delete(socket);
    if (subs.size === 0) channels.delete(channel);
  });
  ws.on('error', () => {});
});

http.listen(port, host);
exitOnSigterm(http);
