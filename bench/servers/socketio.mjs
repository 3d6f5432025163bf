/**
 * Socket.IO 4.8 peer: WebSocket transport only, a room per channel, and a room
 * broadcast (`io.to(channel).emit`) per publication, which Socket.IO frames
 * once and writes to every member (its "precomputed frames" path).
 */
import { Server } from 'socket.io';
import { createPeerHttp, exitOnSigterm, peerArgs, verifyHs256 } from './peer-common.mjs';

const { port, host } = peerArgs();
let io;
const http = createPeerHttp((channel, data) => io.to(channel).emit('pub', data));
io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });

io.use((socket, next) => {
  const user = verifyHs256(socket.handshake.auth?.token);
  if (!user) return next(new Error('invalid token'));
  socket.data.user = user;
  next();
});
io.on('connection', (socket) => {
  const channel = socket.handshake.auth?.channel;
  if (channel) socket.join(channel);
});

http.listen(port, host);
exitOnSigterm(http);
