/**
 * The write-floor "server" (scenarios/write-floor.mjs): no gateway, a plain
 * `net` server that, when its parent asks over IPC, writes one prebuilt frame
 * `writes` times round-robin to the sockets connected to it, `burst` writes per
 * event-loop turn as a fan-out round does them, and answers with the CPU this
 * process used per write. Started pinned to core 0, as the servers are.
 */
import net from 'node:net';

const sockets = [];
const server = net.createServer((s) => {
  s.setNoDelay(true);
  s.on('error', () => s.destroy());
  sockets.push(s);
});
server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));

process.on('message', async ({ writes, size, burst }) => {
  const frame = Buffer.alloc(size, 0x78);
  const start = process.cpuUsage();
  let done = 0;
  while (done < writes) {
    const end = Math.min(writes, done + burst);
    for (; done < end; done++) sockets[done % sockets.length].write(frame);
    await new Promise(setImmediate);
  }
  const used = process.cpuUsage(start);
  process.send({ usPerWrite: (used.user + used.system) / writes, sockets: sockets.length });
});
process.on('disconnect', () => process.exit(0));
