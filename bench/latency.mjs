// Latency of one POST endpoint under fixed concurrency, from a cheap keep-alive client.
// Usage: node latency.mjs URL BODY_JSON TOKEN REQUESTS CONCURRENCY  -> {"p50_ms", "p99_ms", "rps"}
import http from 'node:http';

const [url, body, token, total, concurrency] = process.argv.slice(2);
const target = new URL(url);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const latencies = [];
let next = 0;

function call() {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const request = http.request({
      host: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`,
                 'content-length': Buffer.byteLength(body) },
    }, (response) => {
      response.resume();
      response.on('end', () => {
        if (response.statusCode !== 200) return reject(new Error(`status ${response.statusCode}`));
        latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        resolve();
      });
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function worker() {
  while (next++ < Number(total)) await call();
}

const started = Date.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
latencies.sort((a, b) => a - b);
const quantile = (q) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
console.log(JSON.stringify({ p50_ms: quantile(0.5), p99_ms: quantile(0.99),
                             rps: Number(total) / ((Date.now() - started) / 1000) }));
