/** `npm run showcase`: start gateway, backend and worker, print the URL, stop everything on Ctrl-C. */
import { startShowcase } from './showcase.js';

const env = process.env;
const app = await startShowcase({
  port: Number(env.SHOWCASE_PORT ?? 5180),
  gatewayPort: Number(env.SHOWCASE_GATEWAY_PORT ?? 7070),
  dataDir: env.SHOWCASE_DATA_DIR ?? '.showcase',
  ...(env.PYTHON ? { python: env.PYTHON } : {}),
  restartGatewayOnCrash: true,
  gatewayLog: (line) => process.stderr.write(`[gateway] ${line}\n`),
});

console.log(`
  Tidings showcase is running:  ${app.url}

  Open it in two browser windows (or a normal and a private one) and sign in as two people.
  Gateway: ${app.gateway.wsUrl} (pid ${app.gateway.pid}). Try \`kill -9 ${app.gateway.pid}\`: it is started again
  a second later, every page shows "Reconnecting", then "Live", and nothing is lost.
  Press Ctrl-C to stop.
`);

let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    app.close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}
