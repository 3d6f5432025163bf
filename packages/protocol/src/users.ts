/**
 * User ids inside channel names: the personal channel `#<id>` and
 * user-limited channels like `dm:#<id>,<id>`. An identity provider may issue
 * any string as `sub`; here each gets exactly one form that channel names can
 * hold, so no id can be read as a list of others (`x,y`) or break a frame.
 */
import { bytesToBase64 } from './binary.js';

/** A standard global in browsers and Node (binary.ts says why these are declared here). */
declare const TextEncoder: new () => { encode(s: string): Uint8Array };

/** Ids made only of these characters stand for themselves. */
const PLAIN = /^[A-Za-z0-9_.@-]+$/;
/** `#` plus the form must fit a channel name (255). */
const MAX_FORM = 254;
/** Marks an encoded form; `=` never appears in a plain id. */
const ENCODED = '=';

/**
 * The form of `user` in channel names: the id itself when it is plain
 * (A-Z a-z 0-9 _ . @ -), else `=` and the unpadded base64url of its UTF-8.
 * Undefined when even that does not fit: such a user has no personal channel.
 */
export function channelUserId(user: string): string | undefined {
  if (user.length > 0 && user.length <= MAX_FORM && PLAIN.test(user)) return user;
  const b64 = bytesToBase64(new TextEncoder().encode(user)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  const form = ENCODED + b64;
  return form.length <= MAX_FORM ? form : undefined;
}

/** The personal channel of `user` (`#<form>`), or undefined when its id is too long to have one. */
export function personalChannelOf(user: string): string | undefined {
  const form = channelUserId(user);
  return form === undefined ? undefined : `#${form}`;
}
