/**
 * Requests Node's HTTP parser refused before any route saw them (headers past
 * the 16 KiB limit, a malformed request line, a header timeout). The client
 * gets the status that names the problem, then the socket is closed: nothing
 * is logged, since this is expected misbehaviour of clients.
 */
import type { Duplex } from 'node:stream';

const STATUS_OF: Record<string, string> = {
  HPE_HEADER_OVERFLOW: '431 Request Header Fields Too Large',
  ERR_HTTP_REQUEST_TIMEOUT: '408 Request Timeout',
};

/** A `clientError` listener for a node:http server. */
export function refuseClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  // A response already under way (a keep-alive request that went wrong midway) gets no second status line.
  const started = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent === true;
  if (socket.writable && !started) {
    const status = STATUS_OF[err.code ?? ''] ?? '400 Bad Request';
    socket.write(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  }
  socket.destroy();
}
