// Mixed load for a fixed time: single-row pushes and inference calls from one keep-alive client.
// Usage: node mixed.mjs PORT LEADERBOARD_ID TOKEN CONCURRENCY SECONDS PUSH_SHARE
// Prints {"seconds", "push": {...}, "inference": {...}} with counts by status, latencies and rows accepted.
import http from 'node:http';

const [port, board, token, concurrency, seconds, pushShare] = process.argv.slice(2);
const agent = new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
const kinds = {
  push: { path: `/v1/leaderboard/${board}/dataset/push`, statuses: {}, latencies: [], accepted: 0 },
  inference: { path: `/v1/leaderboard/${board}/inference`, statuses: {}, latencies: [], traced: 0 },
};
let sent = 0;

function body(kind, n) {
  if (kind === 'push') return JSON.stringify({ id: `load-${n}`, input: `Where is my order ${n}?`, output: `On its way (${n}).` });
  return JSON.stringify({ input: `Question ${n}` });
}

function call(kindName, n) {
  const kind = kinds[kindName];
  const payload = body(kindName, n);
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    const request = http.request({
      host: '127.0.0.1', port, path: kind.path, method: 'POST', agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`,
                 'content-length': Buffer.byteLength(payload) },
    }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => {
        kind.latencies.push(Number(process.hrtime.bigint() - started) / 1e6);
        kind.statuses[response.statusCode] = (kind.statuses[response.statusCode] || 0) + 1;
        if (kindName === 'push' && response.statusCode === 202) kind.accepted += JSON.parse(Buffer.concat(chunks)).accepted_rows;
        if (kindName === 'inference' && response.headers['x-drgero-trace-id']) kind.traced += 1;
        resolve();
      });
    });
    request.on('error', () => { kind.statuses.connection_error = (kind.statuses.connection_error || 0) + 1; resolve(); });
    request.end(payload);
  });
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
const elapsed = (Date.now() - started) / 1000;
const report = { seconds: elapsed };
for (const [name, kind] of Object.entries(kinds)) {
  kind.latencies.sort((a, b) => a - b);
  const q = (p) => kind.latencies[Math.min(kind.latencies.length - 1, Math.floor(kind.latencies.length * p))];
  report[name] = { requests: kind.latencies.length, statuses: kind.statuses, p50_ms: q(0.5), p99_ms: q(0.99),
                   accepted: kind.accepted, traced: kind.traced };
}
console.log(JSON.stringify(report));
