/**
 * @tidings/client, Node entry: the same API, with the `ws` package as the
 * default WebSocket and the `eventsource` package as the default EventSource
 * (Node 20 has neither as a global).
 */
import { EventSource } from 'eventsource';
import WebSocket from 'ws';
import { setDefaultEventSource, setDefaultWebSocket } from './index.js';

setDefaultWebSocket(WebSocket);
setDefaultEventSource(EventSource);

export * from './index.js';
