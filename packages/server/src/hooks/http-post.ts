/**
 * A JSON POST over node:http(s) with keep-alive agents. `fetch` opened a new
 * connection setup path per call and cost several milliseconds on loopback;
 * a pooled socket costs a fraction of one (bench/hooks-latency.mjs). Redirects
 * are never followed: a 3xx is an answer like any other non-2xx.
 */
import http from 'node:http';
import https from 'node:https';

export interface PostAnswer {
  status: number;
  /** The body, read only for 2xx answers and a limit above 0; at most the limit. */
  text: string;
}

/** The body grew past the limit: the caller's own error, so it can say which limit. */
export class AnswerTooLarge extends Error {}

export class KeepAlivePoster {
  private readonly agents: { http: http.Agent; https: https.Agent };

  constructor(maxSockets: number) {
    const opts = { keepAlive: true, maxSockets, maxFreeSockets: Math.min(maxSockets, 16), timeout: 60_000 };
    this.agents = { http: new http.Agent(opts), https: new https.Agent(opts) };
  }

  post(url: URL, headers: Record<string, string>, body: string, signal: AbortSignal, limit: number): Promise<PostAnswer> {
    const secure = url.protocol === 'https:';
    const request = secure ? https.request : http.request;
    return new Promise((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { ...headers, 'content-length': Buffer.byteLength(body) }, agent: secure ? this.agents.https : this.agents.http, signal });
      req.once('error', reject);
      req.once('response', (res) => readAnswer(res, limit).then(resolve, reject));
      req.end(body);
    });
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }
}

function readAnswer(res: http.IncomingMessage, limit: number): Promise<PostAnswer> {
  const status = res.statusCode ?? 0;
  // Only a 2xx body is read, and none with limit 0 (a caller that needs the status only).
  if (status < 200 || status > 299 || limit === 0) {
    res.resume(); // drain, so the socket goes back to the pool
    return Promise.resolve({ status, text: '' });
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        res.destroy();
        reject(new AnswerTooLarge(`answer is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    res.once('error', reject);
    res.once('end', () => resolve({ status, text: Buffer.concat(chunks).toString('utf8') }));
  });
}
