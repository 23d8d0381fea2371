// Open-loop load on one POST endpoint: requests go out on a fixed schedule, whether or not
// earlier ones have been answered, so a server that falls behind shows it as latency and errors
// instead of quietly slowing the client down (coordinated omission).
//
// Usage: node openloop.mjs URL BODY_JSON TOKEN RATE WARMUP_S MEASURE_S [TIMEOUT_MS]
//
// Request i is due at start + i / RATE. Its latency runs from that due time, not from when it
// actually left, so any lag of this process or of the connection pool counts against the
// server too. Requests due in the first WARMUP_S seconds are sent but not recorded; those due
// in the next MEASURE_S seconds are. Prints `warm` when the measured window opens and
// `measured` when it closes (so a caller can read the server's CPU time around it), then, once
// every measured request has been answered or has timed out, one JSON line:
//   offered_rps     RATE
//   achieved_rps    2xx answers received during the measured window, per second
//   count           requests due in the window; errors, error_ratio: of those, the non-2xx,
//                   connection errors and timeouts (TIMEOUT_MS, 10 s by default), by kind
//   p50_ms, p99_ms  latency of the 2xx answers among them, from the due time
//   answered_in_window  answers of any status received during the window (CPU per request)
//   send_lag_p99_ms how late this process sent requests: large means the client, not the
//                   server, could not keep up.
import http from 'node:http';

import { quantile } from './client.mjs';

const [url, payload, token, rateArg, warmupArg, measureArg, timeoutArg] = process.argv.slice(2);
const target = new URL(url);
const rate = Number(rateArg);
const warmupMs = Number(warmupArg) * 1000;
const measureMs = Number(measureArg) * 1000;
const timeoutMs = Number(timeoutArg || 10000);
const headers = { 'content-type': 'application/json', authorization: `Bearer ${token}`,
                  'content-length': Buffer.byteLength(payload) };
// As many connections as requests in flight: an open-loop client must never queue behind its own
// pool. Idle connections are closed after 4 s, before the servers' 5 s keep-alive would, so a
// request never races a server closing the connection it was just sent on.
const agent = new http.Agent({ keepAlive: true, maxSockets: 20000, maxFreeSockets: 20000, scheduling: 'lifo',
                               timeout: 4000 });

const now = () => Number(process.hrtime.bigint()) / 1e6;
const latencies = [];
const lags = [];
const errors = {};
let count = 0;
let pending = 0;
let okInWindow = 0;
let answeredInWindow = 0;
let windowOpen = false;
let windowClosed = false;

function record(measured, finished) {
  if (windowOpen && !windowClosed) {
    answeredInWindow += 1;
    if (finished) okInWindow += 1;
  }
  if (measured) pending -= 1;
}

function fail(measured, kind) {
  if (measured) errors[kind] = (errors[kind] || 0) + 1;
  record(measured, false);
}

function send(due, measured) {
  const sent = now();
  if (measured) {
    count += 1;
    pending += 1;
    lags.push(sent - due);
  }
  let settled = false;
  const settle = (callback) => {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    callback();
  };
  const request = http.request({ host: target.hostname, port: target.port, path: target.pathname + target.search,
                                 method: 'POST', agent, headers }, (response) => {
    response.on('data', () => {});
    response.on('end', () => settle(() => {
      if (response.statusCode >= 200 && response.statusCode < 300) {
        if (measured) latencies.push(now() - due);
        record(measured, true);
      } else {
        fail(measured, String(response.statusCode));
      }
    }));
    response.on('error', () => settle(() => fail(measured, 'connection')));
  });
  const timer = setTimeout(() => settle(() => {
    fail(measured, 'timeout');
    request.destroy();
  }), timeoutMs);
  request.on('error', () => settle(() => fail(measured, 'connection')));
  request.end(payload);
}

const start = now() + 50;
const total = Math.round((rate * (warmupMs + measureMs)) / 1000);
const firstMeasured = Math.round((rate * warmupMs) / 1000);
let next = 0;

function tick() {
  const current = now();
  if (!windowOpen && current >= start + warmupMs) {
    windowOpen = true;
    console.log('warm');
  }
  if (!windowClosed && current >= start + warmupMs + measureMs) {
    windowClosed = true;
    console.log('measured');
  }
  while (next < total) {
    const due = start + (next * 1000) / rate;
    if (due > current) break;
    send(due, next >= firstMeasured);
    next += 1;
  }
  if (!windowClosed) {
    setTimeout(tick, Math.max(0, Math.min(1, start + (next * 1000) / rate - now())));
  } else {
    finish();
  }
}

function finish() {
  if (pending > 0) {
    setTimeout(finish, 20);
    return;
  }
  const failed = Object.values(errors).reduce((sum, n) => sum + n, 0);
  console.log(JSON.stringify({
    offered_rps: rate, achieved_rps: okInWindow / (measureMs / 1000), count, errors,
    error_ratio: count ? failed / count : 0,
    p50_ms: latencies.length ? quantile(latencies, 0.5) : null,
    p99_ms: latencies.length ? quantile(latencies, 0.99) : null,
    answered_in_window: answeredInWindow, send_lag_p99_ms: lags.length ? quantile(lags, 0.99) : null,
  }));
  agent.destroy();
}

setTimeout(tick, Math.max(0, start - now()));
