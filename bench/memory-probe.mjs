// Preloaded into a forwarder process by the sizing benchmark (node --import): once a second,
// appends where the process's memory goes to the file named by BENCH_MEMORY_FILE, one JSON line:
// rss, the main V8 heap (used and reserved), memory V8 tracks outside its heap (external, of which
// arrayBuffers: Buffers), in MB. What rss holds beyond these is the Node binary, the page encoder
// worker's own heap, and the malloc heap. Main thread only.
import { appendFileSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';

const file = process.env.BENCH_MEMORY_FILE;
if (file && isMainThread) {
  const mb = (bytes) => Math.round((bytes / 2 ** 20) * 10) / 10;
  setInterval(() => {
    const usage = process.memoryUsage();
    appendFileSync(
      file,
      `${JSON.stringify({ time: Date.now(), rss: mb(usage.rss), heapUsed: mb(usage.heapUsed), heapTotal: mb(usage.heapTotal), external: mb(usage.external), arrayBuffers: mb(usage.arrayBuffers) })}\n`,
    );
  }, 1000).unref();
}
