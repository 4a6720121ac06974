// The official OpenAI Node SDK against ember's HTTP API. Prints one JSON object: what each call
// returned (text, finish reasons, usage, chunk counts) for openai_clients_test.py to check.
// Usage: node openai_sdk_client.js BASE_URL MODEL API_KEY
'use strict';
const OpenAI = require('openai');

async function main() {
  const [baseURL, model, apiKey] = process.argv.slice(2);
  const client = new OpenAI({baseURL, apiKey, maxRetries: 0, timeout: 60000});
  const out = {};
  const prompt = 'In the beginning';
  const greedy = {model, max_tokens: 16, temperature: 0};

  const completion = await client.completions.create({...greedy, prompt});
  out.completion = {
    text: completion.choices[0].text,
    finish_reason: completion.choices[0].finish_reason,
    usage: completion.usage,
    object: completion.object,
  };

  const completionStream = await client.completions.create({
    ...greedy, prompt, stream: true, stream_options: {include_usage: true}});
  out.completion_stream = {text: '', chunks: 0, finish_reason: null, usage: null};
  for await (const chunk of completionStream) {
    out.completion_stream.chunks++;
    if (chunk.usage) out.completion_stream.usage = chunk.usage;
    for (const choice of chunk.choices) {
      out.completion_stream.text += choice.text;
      if (choice.finish_reason) out.completion_stream.finish_reason = choice.finish_reason;
    }
  }

  const messages = [
    {role: 'system', content: 'You answer in verses.'},
    {role: 'user', content: 'Who made the light?'},
  ];
  const chat = await client.chat.completions.create({
    ...greedy, messages, logprobs: true, top_logprobs: 2});
  out.chat = {
    content: chat.choices[0].message.content,
    role: chat.choices[0].message.role,
    finish_reason: chat.choices[0].finish_reason,
    usage: chat.usage,
    logprobs: chat.choices[0].logprobs.content.length,
  };

  const chatStream = await client.chat.completions.create({...greedy, messages, stream: true});
  out.chat_stream = {content: '', chunks: 0, role: null, finish_reason: null};
  for await (const chunk of chatStream) {
    out.chat_stream.chunks++;
    const delta = chunk.choices[0].delta;
    if (delta.role) out.chat_stream.role = delta.role;
    if (delta.content) out.chat_stream.content += delta.content;
    if (chunk.choices[0].finish_reason) out.chat_stream.finish_reason = chunk.choices[0].finish_reason;
  }

  const models = await client.models.list();
  out.models = models.data.map((m) => m.id);

  try {
    await client.completions.create({...greedy, prompt, temperature: 500});
    out.error = null;
  } catch (e) {
    out.error = {status: e.status, param: e.param, type: e.type, message: e.message};
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => {
  process.stderr.write(`openai_sdk_client: ${e.stack || e}\n`);
  process.exit(1);
});
