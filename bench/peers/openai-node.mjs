// Peer client: the official `openai` npm package, streaming chat completions (SSE).
// Usage: node openai-node.mjs BASE_URL [PROMPT]     (BASE_URL ends in /v1)
// Writes exactly the assistant text to stdout.
//
// Output is gathered and written in 64 KiB pieces, the same buffering Python's
// sys.stdout and C's stdio do on a file, so the clients compare on parsing and
// not on one write(2) per token.
import OpenAI from 'openai';

const [baseURL, prompt = 'Stream the benchmark text.'] = process.argv.slice(2);
if (!baseURL) {
  console.error('usage: openai-node.mjs BASE_URL [PROMPT]');
  process.exit(2);
}

const client = new OpenAI({ baseURL, apiKey: 'bench', maxRetries: 0, timeout: 600_000 });
const stream = await client.chat.completions.create({
  model: 'bench-model',
  messages: [{ role: 'user', content: prompt }],
  stream: true,
});

const out = [];
let pending = 0;
for await (const chunk of stream) {
  const content = chunk.choices[0]?.delta?.content;
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
