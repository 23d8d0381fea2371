// Load generator for the push benchmark: a cheap HTTP/1.1 keep-alive client, so the
// Python server, not the client, is what gets measured on a small shared machine.
// Usage: node load.mjs PORT PATH TOKEN REQUESTS CONCURRENCY ROWS_PER_REQUEST
import { keepAlive, post, quantile } from './client.mjs';

const [port, path, token, total, concurrency, rowsPerRequest] = process.argv.slice(2);
const target = new URL(`http://127.0.0.1:${port}${path}`);
const agent = keepAlive(concurrency);
const latencies = [];
let next = 0;
let accepted = 0;

function row(n) {
  return { id: `row-${n}`, input: `How do I change setting number ${n}?`, output: `Open settings and change ${n}.`,
           user_id: `u${n % 97}`, metadata: { source: 'bench' } };
}

function body(index) {
  const size = Number(rowsPerRequest);
  if (size === 1) return JSON.stringify(row(index));
  return JSON.stringify({ rows: Array.from({ length: size }, (_, r) => row(index * size + r)) });
}

async function push(index) {
  const answer = await post(agent, target, token, body(index));
  if (answer.status !== 202) throw new Error(`status ${answer.status}`);
  accepted += JSON.parse(answer.body).accepted_rows;
  latencies.push(answer.ms);
}

async function worker() {
  while (next < Number(total)) await push(next++);
}

const started = Date.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const seconds = (Date.now() - started) / 1000;
console.log(JSON.stringify({ seconds, accepted, requests_per_second: Number(total) / seconds,
                             p50_ms: quantile(latencies, 0.5), p99_ms: quantile(latencies, 0.99) }));
