// Peer client: the `ollama` npm package, streaming /api/chat (NDJSON).
// Usage: node ollama-node.mjs BASE_URL [PROMPT]     (BASE_URL is http://host:port)
// Writes exactly the assistant text to stdout.
//
// Output is gathered and written in 64 KiB pieces, the same buffering Python's
// sys.stdout and C's stdio do on a file, so the clients compare on parsing and
// not on one write(2) per token.
import { Ollama } from 'ollama';

const [host, prompt = 'Stream the benchmark text.'] = process.argv.slice(2);
if (!host) {
  console.error('usage: ollama-node.mjs BASE_URL [PROMPT]');
  process.exit(2);
}

const ollama = new Ollama({ host });
const stream = await ollama.chat({
  model: 'bench-model',
  messages: [{ role: 'user', content: prompt }],
  stream: true,
});

const out = [];
let pending = 0;
for await (const part of stream) {
  const content = part.message?.content;
  if (content) {
    out.push(content);
    pending += content.length;
    if (pending >= 65536) {
      process.stdout.write(out.join(''));
      out.length = 0;
      pending = 0;
    }
  }
}
if (out.length) process.stdout.write(out.join(''));
