const t0 = Date.now();
setInterval(() => { const m = process.memoryUsage(); const mb = (n) => (n / 1048576).toFixed(1); process.stderr.write(`MEM ${Date.now() - t0} heap=${mb(m.heapUsed)} ext=${mb(m.external)} ab=${mb(m.arrayBuffers)} rss=${mb(m.rss)}\n`); }, 500).unref();
