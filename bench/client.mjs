// The keep-alive JSON POST and the quantiles the Node load generators share.
import http from 'node:http';

export function keepAlive(concurrency) {
  return new http.Agent({ keepAlive: true, maxSockets: Number(concurrency) });
}

// POST a JSON payload; resolves {status, body, ms}, rejects on connection errors.
export function post(agent, url, token, payload) {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const request = http.request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`,
                 'content-length': Buffer.byteLength(payload) },
    }, (response) => {
      const chunks = [];
      response.on('data', (chunk) => chunks.push(chunk));
      response.on('end', () => resolve({
        status: response.statusCode, body: Buffer.concat(chunks),
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      }));
    });
    request.on('error', reject);
    request.end(payload);
  });
}

// The q-quantile of latencies, sorted in place.
export function quantile(latencies, q) {
  latencies.sort((a, b) => a - b);
  return latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
}
