/**
 * The server's half of the WebSocket opening handshake (RFC 6455 §4.2), with
 * `ws`'s checks and answers: 405 for a method other than GET; 400 for a
 * missing or wrong Upgrade, Sec-WebSocket-Key or Sec-WebSocket-Protocol;
 * 400 with `Sec-WebSocket-Version: 13, 8` for another version. The first
 * subprotocol the client offers is the one agreed (a browser fails the
 * connection when it offered some and none comes back). No extension is ever
 * agreed: permessage-deflate stays off, so every publication is framed once.
 */
import { hash } from 'node:crypto';
import { HTTP_TOKEN } from '../http/fast-lane/upgrade.js';
import { httpRefusal } from '../http/refusal.js';

/** RFC 6455 §1.3. */
const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** 16 bytes in base64. */
const KEY = /^[+/0-9A-Za-z]{22}==$/;

export type Handshake = { ok: true; response: string } | { ok: false; status: number; refusal: string };

/** The 101 answer to an upgrade request, or the whole HTTP answer that refuses it. */
export function answerHandshake(method: string | undefined, headers: Record<string, string | string[] | undefined>): Handshake {
  if (method !== 'GET') return refuse(405, 'Invalid HTTP method');
  const upgrade = headers.upgrade;
  if (typeof upgrade !== 'string' || upgrade.toLowerCase() !== 'websocket') return refuse(400, 'Invalid Upgrade header');
  const key = headers['sec-websocket-key'];
  if (typeof key !== 'string' || !KEY.test(key)) return refuse(400, 'Missing or invalid Sec-WebSocket-Key header');
  const version = Number(headers['sec-websocket-version']);
  if (version !== 13 && version !== 8) return refuse(400, 'Missing or invalid Sec-WebSocket-Version header', 'Sec-WebSocket-Version: 13, 8\r\n');
  let protocol: string | undefined;
  const offered = headers['sec-websocket-protocol'];
  if (offered !== undefined) {
    protocol = typeof offered === 'string' ? firstSubprotocol(offered) : undefined;
    if (protocol === undefined) return refuse(400, 'Invalid Sec-WebSocket-Protocol header');
  }
  // The one-shot hash: no Hash object per handshake.
  const accept = hash('sha1', key + GUID, 'base64');
  const chosen = protocol === undefined ? '' : `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  return { ok: true, response: `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n${chosen}\r\n` };
}

/**
 * The first name in a Sec-WebSocket-Protocol list, or undefined when the list
 * is malformed: names are tokens, separated by commas with optional spaces or
 * tabs around them, none repeated.
 */
export function firstSubprotocol(header: string): string | undefined {
  const names = header.split(',').map((n) => n.replace(/^[ \t]+|[ \t]+$/g, ''));
  // A name may not start the header with a blank (ws reads `i !== 0` there).
  if (/^[ \t]/.test(header)) return undefined;
  if (!names.every((n) => HTTP_TOKEN.test(n))) return undefined;
  if (new Set(names).size !== names.length) return undefined;
  return names[0];
}

function refuse(status: number, message: string, extra = ''): Handshake {
  return { ok: false, status, refusal: httpRefusal(status, message, extra) };
}
