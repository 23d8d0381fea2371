// Mixed load for a fixed time: single-row pushes and inference calls from one keep-alive client.
// Usage: node mixed.mjs PORT LEADERBOARD_ID TOKEN CONCURRENCY SECONDS PUSH_SHARE
// Prints {"seconds", "push": {...}, "inference": {...}} with counts by status, latencies and rows accepted.
import { keepAlive, post, quantile } from './client.mjs';

const [port, board, token, concurrency, seconds, pushShare] = process.argv.slice(2);
const agent = keepAlive(concurrency);
const base = `http://127.0.0.1:${port}/v1/leaderboard/${board}`;
const kinds = {
  push: { url: new URL(`${base}/dataset/push`), statuses: {}, latencies: [], accepted: 0 },
  inference: { url: new URL(`${base}/inference`), statuses: {}, latencies: [], accepted: 0 },
};
let sent = 0;

function body(kind, n) {
  if (kind === 'push') return JSON.stringify({ id: `load-${n}`, input: `Where is my order ${n}?`, output: `On its way (${n}).` });
  return JSON.stringify({ input: `Question ${n}` });
}

async function call(kindName, n) {
  const kind = kinds[kindName];
  let answer;
  try {
    answer = await post(agent, kind.url, token, body(kindName, n));
  } catch {
    kind.statuses.connection_error = (kind.statuses.connection_error || 0) + 1;
    return;
  }
  kind.latencies.push(answer.ms);
  kind.statuses[answer.status] = (kind.statuses[answer.status] || 0) + 1;
  if (kindName === 'push' && answer.status === 202) kind.accepted += JSON.parse(answer.body).accepted_rows;
}

const deadline = Date.now() + Number(seconds) * 1000;
async function worker() {
  while (Date.now() < deadline) {
    const n = sent++;
    // A fixed interleave (not random), so every run sends the same mix.
    await call((n % 100) < Number(pushShare) * 100 ? 'push' : 'inference', n);
  }
}

const started = Date.now();
await Promise.all(Array.from({ length: Number(concurrency) }, worker));
const report = { seconds: (Date.now() - started) / 1000 };
for (const [name, kind] of Object.entries(kinds)) {
  report[name] = { requests: kind.latencies.length, statuses: kind.statuses, p50_ms: quantile(kind.latencies, 0.5),
                   p99_ms: quantile(kind.latencies, 0.99), accepted: kind.accepted };
}
console.log(JSON.stringify(report));
