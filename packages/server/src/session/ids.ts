/**
 * Connection ids: 9 random bytes (72 bits) in base64url. The bytes come from
 * a pool refilled 4 KiB at a time, so a connect storm makes one CSPRNG call
 * per 455 connections instead of one each (a visible part of a connect).
 */
import { randomBytes } from 'node:crypto';

const ID_BYTES = 9;
const POOL_BYTES = 4095; // a multiple of ID_BYTES

let pool = Buffer.alloc(0);
let used = 0;

export function newConnectionId(): string {
  if (used + ID_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    used = 0;
  }
  const id = pool.toString('base64url', used, used + ID_BYTES);
  used += ID_BYTES;
  return id;
}
