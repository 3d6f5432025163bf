/**
 * A client's frame on its way in: decoded, counted against the session's
 * command budget, checked against the session's state, and run by its
 * handler in commands.ts. Transports call these; the session state machine
 * never sees a command handler, so the two stay apart. None of them throws.
 */
import {
  type ClientFrame,
  type Command,
  ErrorCode,
  ProtocolError,
  decodeBinaryClientFrame,
  decodeClientFrame,
  decodeClientValue,
  isErrorCode,
} from '@tidings/protocol';
import { runCommand } from './commands.js';
import type { Session } from './session.js';

/** A text frame (WebSocket). */
export function receiveText(s: Session, text: string): void {
  receive(s, decodeClientFrame, text);
}

/** A binary frame (WebSocket): an rpc command carrying raw bytes. */
export function receiveBinary(s: Session, bytes: Uint8Array): void {
  receive(s, decodeBinaryClientFrame, bytes);
}

/** One frame of a POSTed batch (SSE), already parsed as JSON. */
export function receiveValue(s: Session, raw: unknown): void {
  receive(s, decodeClientValue, raw);
}

function receive<T>(s: Session, decode: (input: T) => ClientFrame, input: T): void {
  if (!s.heard()) return;
  let frame: ClientFrame;
  try {
    frame = decode(input);
  } catch (err) {
    return s.rejectFrame(err);
  }
  // Every frame counts against the budget, pongs and frames before `connect` included.
  if (!s.admit()) {
    if (frame.method !== 'pong') s.replyError(frame.id, { code: ErrorCode.TooManyRequests, message: 'too many commands', temporary: true });
    return;
  }
  if (frame.method !== 'pong') dispatch(s, frame);
}

function dispatch(s: Session, cmd: Command): void {
  if (cmd.method === 'connect' && s.state !== 'opening') {
    return s.replyError(cmd.id, { code: ErrorCode.BadRequest, message: 'already connected' });
  }
  if (cmd.method !== 'connect' && s.state !== 'connected') {
    return s.replyError(cmd.id, { code: ErrorCode.NotConnected, message: 'send connect first' });
  }
  runCommand(s, cmd).catch((err: unknown) => failCommand(s, cmd, err));
}

/** A handler's error: its own code when it has one, else 100, logged. */
function failCommand(s: Session, cmd: Command, err: unknown): void {
  const code = (err as { code?: unknown }).code;
  if (err instanceof ProtocolError || isErrorCode(code)) {
    return s.replyError(cmd.id, { code: code as number, message: (err as Error).message });
  }
  s.ctx.log.error({ err, client: s.id, method: cmd.method }, 'command failed');
  s.replyError(cmd.id, { code: ErrorCode.Internal, message: 'internal error', temporary: true });
}
