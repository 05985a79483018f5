/**
 * The first step of `npm run bench`: records how busy the machine is before any benchmark runs,
 * in bench/results/start.json: the share of the CPUs busy over 5 s (from /proc/stat) and the load
 * averages. The load at the end of each stage counts the benchmark's own processes (the forwarder,
 * the simulator, Kafka, Elasticsearch: about 2 on 2 cores), so only this says whether other work
 * shared the machine; bench/report.ts labels the figures by it.
 */
import { readFileSync } from 'node:fs';
import { sleep, writeResult } from './support.js';

/** Busy and total jiffies of all CPUs. */
function cpuTimes(): { busy: number; total: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = fields.reduce((sum, value) => sum + value, 0);
  const idle = fields[3]! + (fields[4] ?? 0); // idle and iowait
  return { busy: total - idle, total };
}

const before = cpuTimes();
await sleep(5000);
const after = cpuTimes();
const busyShare = Math.round(((after.busy - before.busy) / (after.total - before.total)) * 100) / 100;
const [load1m, load5m, load15m] = readFileSync('/proc/loadavg', 'utf8').split(' ').map(Number);
writeResult('start', { cpuBusyShare: busyShare, loadAverage1m: load1m, loadAverage5m: load5m, loadAverage15m: load15m });
console.log(`before the benchmarks: CPUs ${Math.round(busyShare * 100)} % busy over 5 s; load ${load1m} ${load5m} ${load15m} (1, 5, 15 minutes)`);
