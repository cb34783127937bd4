// /v1/embeddings through the official `openai` client (which asks for base64 and decodes
// it), and bad input on every new route: 4xx in that API's own error shape, server healthy.
// The numbers themselves are checked against an independent reference in
// tests/runtime/test_embeddings.cpp; here: the HTTP surface, batching and pooling options.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, post, KJV_MODEL } from './harness.mjs';

let srv, mean;
before(async () => {
  srv = await startServer(KJV_MODEL, ['--parallel', '4', '--model-alias', 'kjv']);
  mean = await startServer(KJV_MODEL, ['--parallel', '4', '--model-alias', 'kjv', '--pooling', 'mean']);
});
after(async () => {
  await srv?.stop();
  await mean?.stop();
});

const texts = ['In the beginning God created the heaven and the earth.', 'Jesus wept.', 'And the LORD spake unto Moses, saying,',
  'Blessed are the meek', 'Love', 'The LORD is my shepherd; I shall not want.', 'Let there be light', 'Amen.'];
const norm = (v) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
const dot = (a, b) => a.reduce((s, x, i) => s + x * b[i], 0);

test('a batch of 8 inputs gives each input\'s embedding alone, normalized, float and base64 alike', async () => {
  for (const s of [srv, mean]) {
    const batch = await s.client.embeddings.create({ model: 'kjv', input: texts });  // base64 on the wire
    assert.equal(batch.object, 'list');
    assert.equal(batch.data.length, 8);
    const dim = batch.data[0].embedding.length;
    assert.ok(dim > 8);
    let tokens = 0;
    for (let i = 0; i < 8; i++) {
      assert.equal(batch.data[i].index, i);
      assert.ok(Math.abs(norm(batch.data[i].embedding) - 1) < 1e-5);
      const alone = await s.client.embeddings.create({ model: 'kjv', input: texts[i], encoding_format: 'float' });
      assert.deepEqual(alone.data[0].embedding, batch.data[i].embedding, `input ${i}`);
      tokens += alone.usage.prompt_tokens;
    }
    assert.equal(batch.usage.prompt_tokens, tokens);
    assert.equal(batch.usage.total_tokens, tokens);
    // different texts differ
    assert.ok(dot(batch.data[0].embedding, batch.data[1].embedding) < 0.9999);
  }
});

test('mean and last pooling differ; token-id inputs equal their text; dimensions truncates and renormalizes', async () => {
  const last = (await srv.client.embeddings.create({ input: texts[0], encoding_format: 'float' })).data[0].embedding;
  const avg = (await mean.client.embeddings.create({ input: texts[0], encoding_format: 'float' })).data[0].embedding;
  assert.ok(dot(last, avg) < 0.999);
  const ids = (await post(srv.url, '/tokenize', { content: texts[0], add_special: true })).body.tokens;
  const byIds = await srv.client.embeddings.create({ input: [ids, ids.slice(0, 3)], encoding_format: 'float' });
  assert.deepEqual(byIds.data[0].embedding, last);
  const single = await srv.client.embeddings.create({ input: ids, encoding_format: 'float' });
  assert.deepEqual(single.data[0].embedding, last);
  const short = (await srv.client.embeddings.create({ input: texts[0], dimensions: 16, encoding_format: 'float' })).data[0].embedding;
  assert.equal(short.length, 16);
  assert.ok(Math.abs(norm(short) - 1) < 1e-5);
  const n = norm(last.slice(0, 16));
  short.forEach((x, i) => assert.ok(Math.abs(x - last[i] / n) < 1e-6));
});

test('embeddings run beside generations on the same engine', async () => {
  const gen = srv.client.chat.completions.create({ messages: [{ role: 'user', content: 'And God said' }], max_tokens: 64, temperature: 0 });
  const emb = Promise.all(texts.map((t) => srv.client.embeddings.create({ input: t, encoding_format: 'float' })));
  const [g, e] = await Promise.all([gen, emb]);
  assert.equal(g.usage.completion_tokens, 64);
  const batch = await srv.client.embeddings.create({ input: texts, encoding_format: 'float' });
  e.forEach((r, i) => assert.deepEqual(r.data[0].embedding, batch.data[i].embedding));
});

// Bad input: status, the API's error shape, and the server still serving.
async function openaiError(route, body, status = 400) {
  const r = await post(srv.url, route, body);
  assert.equal(r.status, status, `${route} ${JSON.stringify(body).slice(0, 120)}: ${r.text}`);
  assert.equal(typeof r.body.error.message, 'string');
  assert.equal(typeof r.body.error.type, 'string');
  assert.ok('code' in r.body.error);
  return r.body.error.message;
}
async function anthropicError(route, body, status = 400) {
  const r = await post(srv.url, route, body);
  assert.equal(r.status, status, `${route} ${JSON.stringify(body).slice(0, 120)}: ${r.text}`);
  assert.equal(r.body.type, 'error');
  assert.equal(typeof r.body.error.type, 'string');
  assert.equal(typeof r.body.error.message, 'string');
  return r.body.error.message;
}

test('bad input on /v1/responses: 400 in OpenAI\'s shape naming the problem', async () => {
  const cases = [
    ['{not json', /malformed JSON/],
    [[1, 2], /JSON object/],
    [{}, /'input' is required/],
    [{ input: 42 }, /'input' must be/],
    [{ input: [] }, /'input' must be/],
    [{ input: [{ type: 'message', role: 'user' }] }, /content is required/],
    [{ input: [{ type: 'message', role: 'wizard', content: 'hi' }] }, /role must be/],
    [{ input: [{ type: 'computer_call', action: {} }] }, /item type 'computer_call' is not supported/],
    [{ input: [{ type: 'item_reference', id: 'msg_1' }] }, /stateless/],
    [{ input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'x' }] }] }, /text only/],
    [{ input: [{ role: 'user', content: [{ type: 'sparkle', text: 'x' }] }] }, /unknown content part type/],
    [{ input: [{ type: 'function_call', name: 'f', arguments: '{}' }] }, /call_id must be a string/],
    [{ input: [{ type: 'function_call_output', call_id: 'c' }] }, /output is required/],
    [{ input: 'hi', tools: [{ type: 'web_search' }] }, /only function tools/],
    [{ input: 'hi', tools: [{ type: 'function' }] }, /name must be a string/],
    [{ input: 'hi', tool_choice: 'required' }, /needs 'tools'/],
    [{ input: 'hi', text: { format: { type: 'yaml' } } }, /text.format.type/],
    [{ input: 'hi', max_output_tokens: 0 }, /max_output_tokens/],
    [{ input: 'hi', temperature: 'hot' }, /temperature/],
    [{ input: 'hi', previous_response_id: 'resp_9' }, /previous_response_id/],
    [{ input: 'hi', background: true }, /background/],
  ];
  for (const [body, re] of cases) assert.match(await openaiError('/v1/responses', body), re);
  assert.match(await openaiError('/v1/responses', { input: 'hi', model: 'gpt-5' }, 404), /not served here/);
  assert.match(await openaiError('/v1/responses', { input: 'x '.repeat(5000) }), /does not fit/);
});

test('bad input on /v1/messages and count_tokens: 400 in Anthropic\'s shape naming the problem', async () => {
  const ok = { max_tokens: 4, messages: [{ role: 'user', content: 'hi' }] };
  const cases = [
    ['{not json', /malformed JSON/],
    [{ messages: ok.messages }, /'max_tokens' is required/],
    [{ max_tokens: 4 }, /'messages' is required/],
    [{ max_tokens: 4, messages: [] }, /non-empty/],
    [{ max_tokens: 4, messages: [{ role: 'system', content: 'x' }] }, /role must be 'user' or 'assistant'/],
    [{ max_tokens: 4, messages: [{ role: 'user' }] }, /content must be/],
    [{ max_tokens: 4, messages: [{ role: 'user', content: [{ type: 'image', source: {} }] }] }, /text only/],
    [{ max_tokens: 4, messages: [{ role: 'user', content: [{ type: 'hologram' }] }] }, /block type 'hologram'/],
    [{ max_tokens: 4, messages: [{ role: 'user', content: [{ type: 'tool_result' }] }] }, /tool_use_id must be a string/],
    [{ max_tokens: 4, messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 't', name: 'f', input: 'x' }] }] }, /input must be an object/],
    [{ max_tokens: 4, messages: [{ role: 'user', content: [{ text: 'no type' }] }] }, /'type'/],
    [{ ...ok, system: [{ type: 'image' }] }, /text block/],
    [{ ...ok, tools: [{ type: 'bash_20250124', name: 'bash' }] }, /only client tools/],
    [{ ...ok, tools: [{ name: 'f' }] }, /input_schema must be an object/],
    [{ ...ok, tool_choice: { type: 'any' } }, /needs 'tools'/],
    [{ ...ok, tool_choice: { type: 'sometimes' } }, /tool_choice.type/],
    [{ ...ok, stop_sequences: [''] }, /must not be empty/],
    [{ ...ok, thinking: { type: 'maybe' } }, /thinking.type/],
    [{ ...ok, max_tokens: -1 }, /max_tokens/],
  ];
  for (const [body, re] of cases) assert.match(await anthropicError('/v1/messages', body), re);
  assert.match(await anthropicError('/v1/messages', { ...ok, model: 'claude-opus' }, 404), /not served here/);
  assert.match(await anthropicError('/v1/messages/count_tokens', { messages: 'hi' }), /non-empty list/);
  assert.match(await anthropicError('/v1/messages/count_tokens', '[]'), /JSON object/);
});

test('bad input on /v1/embeddings: 400 in OpenAI\'s shape naming the problem', async () => {
  const cases = [
    ['{not json', /malformed JSON/],
    [{}, /'input' is required/],
    [{ input: '' }, /empty string/],
    [{ input: [] }, /'input' must be/],
    [{ input: [{ text: 'x' }] }, /must be a string or a list of token ids/],
    [{ input: [[]] }, /empty token list/],
    [{ input: [1, 'a'] }, /integer/],
    [{ input: [99999999] }, /outside the vocabulary/],
    [{ input: [-1] }, /between/],
    [{ input: 'x', encoding_format: 'int8' }, /encoding_format/],
    [{ input: 'x', dimensions: 0 }, /dimensions/],
    [{ input: 'x', dimensions: 1e6 }, /dimensions/],
    [{ input: 'x '.repeat(5000) }, /longer than the context/],
  ];
  for (const [body, re] of cases) assert.match(await openaiError('/v1/embeddings', body), re);
  assert.match(await openaiError('/v1/embeddings', { input: 'x', model: 'text-embedding-3' }, 404), /not served here/);
});

test('the server is healthy after the bad input', async () => {
  assert.equal((await fetch(`${srv.url}/health`)).status, 200);
  const r = await srv.client.embeddings.create({ input: 'Amen.' });
  assert.equal(r.data.length, 1);
  const m = await srv.anthropic.messages.create({ model: 'kjv', max_tokens: 3, messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(m.usage.output_tokens, 3);
  // nothing left running (the gauge is refreshed at the engine's next step)
  let metrics = '';
  for (let i = 0; i < 50 && !/pangolin_requests_running 0\n/.test(metrics); i++) {
    metrics = await (await fetch(`${srv.url}/metrics`)).text();
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.match(metrics, /pangolin_requests_running 0\n/);
});
