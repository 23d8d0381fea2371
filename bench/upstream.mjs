// A cheap OpenAI-compatible upstream for load benchmarks: POST .../chat/completions answers with
// the last line of the last message, at once or, given `node upstream.mjs DELAY_MS`, after that
// many milliseconds (a timer, so any number of calls wait side by side). Node, so it costs the
// shared machine little CPU next to the server being measured. Prints its base URL, then serves
// until killed.
import http from 'node:http';

const delayMs = Number(process.argv[2] || 0);

const server = http.createServer((request, response) => {
  const chunks = [];
  request.on('data', (chunk) => chunks.push(chunk));
  request.on('end', () => {
    if (request.method !== 'POST' || !request.url.endsWith('/chat/completions')) {
      response.writeHead(404, { 'content-type': 'application/json' });
      response.end('{"error":{"message":"not found"}}');
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString() || '{}');
    const messages = body.messages || [];
    const last = String((messages[messages.length - 1] || {}).content || '').trim().split('\n').pop();
    const answer = JSON.stringify({
      id: 'chatcmpl-bench', object: 'chat.completion', created: Math.floor(Date.now() / 1000), model: body.model || 'bench',
      choices: [{ index: 0, message: { role: 'assistant', content: last }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    });
    const send = () => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
      response.end(answer);
    };
    if (delayMs > 0) setTimeout(send, delayMs);
    else send();
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}`));
