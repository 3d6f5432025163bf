/**
 * Stream epochs: the name of one life of a channel's stream. A new epoch tells
 * a client that its old position means nothing any more (docs/protocol.md).
 */
import { randomBytes } from 'node:crypto';

/** 48 random bits per process, so epochs made here never meet another process's. */
const EPOCH_PREFIX = randomBytes(6).toString('base64url');
let epochCount = 0;

/**
 * A fresh stream epoch: unique per process (random prefix) and per call (a
 * counter). Publishes pass one in case the stream has to start over, so it is
 * made on every publication, where a CSPRNG call each time would cost more
 * than the rest of the epoch handling (bench/RESULTS.md).
 */
export function newEpoch(): string {
  return `${EPOCH_PREFIX}${(++epochCount).toString(36)}`;
}
