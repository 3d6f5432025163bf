/**
 * Requests Node's HTTP parser refused before any route saw them (headers past
 * the 16 KiB limit, a malformed request line, a header timeout). The client
 * gets the status that names the problem, then the socket is closed: nothing
 * is logged, since this is expected misbehaviour of clients.
 */
import type { Duplex } from 'node:stream';
import { httpRefusal } from './refusal.js';

const STATUS_OF: Record<string, number> = {
  HPE_HEADER_OVERFLOW: 431,
  ERR_HTTP_REQUEST_TIMEOUT: 408,
};

/** A `clientError` listener for a node:http server. */
export function refuseClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A response already under way (a keep-alive request that went wrong midway) gets no second status line.
  const started = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (socket.writable && !started) {
    socket.write(httpRefusal(STATUS_OF[err.code ?? ''] ?? 400));
  }
  socket.destroy();
}
