/**
 * What the connect hook learns about the client's HTTP request (the WebSocket
 * upgrade or the SSE GET): its address and only the headers and cookies the
 * configuration names, so what a connection keeps is bounded by the config.
 */
import type { IncomingHttpHeaders } from 'node:http';

export interface ConnectFacts {
  ip: string;
  /** Configured headers that were present, by lower-case name. */
  headers: Record<string, string>;
  /** Configured cookies that were present, by name, values as sent. */
  cookies: Record<string, string>;
}

export interface ForwardRules {
  forwardHeaders: readonly string[];
  forwardCookies: readonly string[];
}

export function connectFacts(rules: ForwardRules, ip: string | undefined, headers: IncomingHttpHeaders): ConnectFacts {
  const picked: Record<string, string> = {};
  for (const name of rules.forwardHeaders) {
    const value = headers[name.toLowerCase()];
    if (value !== undefined) picked[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return { ip: ip ?? '', headers: picked, cookies: pickCookies(headers.cookie, rules.forwardCookies) };
}

/** The named cookies of a `Cookie` header (first occurrence wins, as browsers send the most specific first). */
export function pickCookies(header: string | undefined, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (!header || names.length === 0) return out;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (names.includes(name) && !Object.hasOwn(out, name)) out[name] = part.slice(eq + 1).trim();
  }
  return out;
}
