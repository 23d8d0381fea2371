// Load generator for the push benchmark: a cheap HTTP/1.1 keep-alive client, so the
// Python server, not the client, is what gets measured on a small shared machine.
// Usage: node load.mjs PORT PATH TOKEN REQUESTS CONCURRENCY ROWS_PER_REQUEST
import http from 'node:http';

const [port, path, token, total, concurrency, rowsPerRequest] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
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

function push(index) {
  return new Promise((resolve, reject) => {
    const payload = body(index);
    const started = process.hrtime.bigint();
    const request = http.request({
      host: '127.0.0.1', port, path, method: 'POST', agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`,
                 'content-length': Buffer.byteLength(payload) },
    }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        if (response.statusCode !== 202) return reject(new Error(`status ${response.statusCode}`));
        accepted += JSON.parse(Buffer.concat(chunks)).accepted_rows;
        latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        resolve();
      });
    });
    request.on('error', reject);
    request.end(payload);
  });
}

async function worker() {
  while (next < Number(total)) await push(next++);
}

const started = Date.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const seconds = (Date.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const quantile = (q) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
console.log(JSON.stringify({ seconds, accepted, requests_per_second: Number(total) / seconds,
                             p50_ms: quantile(0.5), p99_ms: quantile(0.99) }));
