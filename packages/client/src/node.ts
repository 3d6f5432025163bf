/**
 * @tidings/client, Node entry: the same API, with the `ws` package as the
 * default WebSocket (Node 20 has no global WebSocket).
 */
import WebSocket from 'ws';
import { setDefaultWebSocket } from './index.js';

setDefaultWebSocket(WebSocket);

export * from './index.js';
