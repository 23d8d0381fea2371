// Latency of one POST endpoint under fixed concurrency, from a cheap keep-alive client.
// Usage: node latency.mjs URL BODY_JSON TOKEN REQUESTS CONCURRENCY  -> {"p50_ms", "p99_ms", "rps"}
import { keepAlive, post, quantile } from './client.mjs';

const [url, body, token, total, concurrency] = process.argv.slice(2);
const target = new URL(url);
const agent = keepAlive(concurrency);
const latencies = [];
let next = 0;

async function worker() {
  while (next++ < Number(total)) {
    const answer = await post(agent, target, token, body);
    if (answer.status !== 200) throw new Error(`status ${answer.status}`);
    latencies.push(answer.ms);
  }
}

const started = Date.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
console.log(JSON.stringify({ p50_ms: quantile(latencies, 0.5), p99_ms: quantile(latencies, 0.99),
                             rps: Number(total) / ((Date.now() - started) / 1000) }));
