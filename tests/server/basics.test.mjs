// One server, one user at a time: the OpenAI surface on the e2e fixture (Qwen2 vocabulary,
// DeepSeek-R1-Distill template) and on a mixture-of-experts fixture.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, collectChat, E2E_MODEL, MOE_MODEL } from './harness.mjs';

let srv, moe;
before(async () => {
  srv = await startServer(E2E_MODEL, ['--parallel', '4']);
  moe = await startServer(MOE_MODEL, ['--parallel', '2']);
});
after(async () => {
  await srv?.stop();
  await moe?.stop();
});

const ask = (content) => [{ role: 'user', content }];

test('models and health', async () => {
  const models = await srv.client.models.list();
  assert.equal(models.data.length, 1);
  assert.match(models.data[0].id, /tiny-r1-distill/);
  const h = await fetch(`${srv.url}/health`);
  assert.equal(h.status, 200);
});

test('streaming and non-streaming give the same text', async () => {
  for (const s of [srv, moe]) {
    const params = { model: (await s.client.models.list()).data[0].id, messages: ask('Tell me a story'), max_tokens: 24, temperature: 0 };
    const full = await s.client.chat.completions.create(params);
    const streamed = await collectChat(await s.client.chat.completions.create({ ...params, stream: true }));
    const m = full.choices[0].message;
    assert.equal(streamed.content, m.content ?? '');
    assert.equal(streamed.reasoning, m.reasoning_content ?? '');
    assert.equal(streamed.finish, full.choices[0].finish_reason);
    assert.equal(full.usage.completion_tokens, 24);
  }
});

test('text completions stream and not', async () => {
  const params = { model: (await moe.client.models.list()).data[0].id, prompt: 'Once upon a time', max_tokens: 16, temperature: 0 };
  const full = await moe.client.completions.create(params);
  let text = '';
  for await (const c of await moe.client.completions.create({ ...params, stream: true })) text += c.choices[0]?.text ?? '';
  assert.equal(text, full.choices[0].text);
  assert.ok(full.choices[0].text.length > 0);
});

test('include_usage adds one final chunk with no choices', async () => {
  const base = { model: 'tiny-r1-distill-qwen2-q8_0.gguf', messages: ask('Hi'), max_tokens: 5, temperature: 0, stream: true };
  const withUsage = await collectChat(await srv.client.chat.completions.create({ ...base, stream_options: { include_usage: true } }));
  const last = withUsage.chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage.completion_tokens, 5);
  assert.equal(last.usage.total_tokens, last.usage.prompt_tokens + 5);
  assert.equal(withUsage.chunks.filter((c) => c.usage).length, 1);
  const without = await collectChat(await srv.client.chat.completions.create(base));
  assert.equal(without.chunks.filter((c) => c.usage).length, 0);
});

test('stop strings end the output and are never emitted, also across tokens', async () => {
  const params = { model: moe.client ? (await moe.client.models.list()).data[0].id : '', prompt: 'The quick brown fox', max_tokens: 40, temperature: 0 };
  const free = (await moe.client.completions.create(params)).choices[0].text;
  assert.ok(free.length > 12, `need some text to cut: ${JSON.stringify(free)}`);
  // a stop string that starts in the middle of the output and spans several characters
  const at = Math.floor(free.length / 2);
  const stop = free.slice(at, at + 5);
  const expected = free.slice(0, free.indexOf(stop));
  for (const stream of [false, true]) {
    let text = '';
    let finish;
    if (stream) {
      for await (const c of await moe.client.completions.create({ ...params, stop: [stop], stream: true })) {
        text += c.choices[0]?.text ?? '';
        finish = c.choices[0]?.finish_reason ?? finish;
      }
    } else {
      const r = await moe.client.completions.create({ ...params, stop: stop });
      text = r.choices[0].text;
      finish = r.choices[0].finish_reason;
    }
    assert.equal(text, expected, `stream=${stream}`);
    assert.ok(!text.includes(stop));
    assert.equal(finish, 'stop');
  }
});

test('a seed reproduces a sampled answer', async () => {
  const id = (await moe.client.models.list()).data[0].id;
  const params = { model: id, prompt: 'In the beginning', max_tokens: 24, temperature: 1.5 };
  const a = await moe.client.completions.create({ ...params, seed: 1234 });
  const b = await moe.client.completions.create({ ...params, seed: 1234 });
  assert.equal(a.choices[0].text, b.choices[0].text);
  const others = await Promise.all([1, 2, 3].map((s) => moe.client.completions.create({ ...params, seed: s })));
  assert.ok(others.some((o) => o.choices[0].text !== a.choices[0].text), 'different seeds should differ');
});

test('logprobs with top alternatives', async () => {
  const r = await srv.client.chat.completions.create({
    model: 'tiny-r1-distill-qwen2-q8_0.gguf', messages: ask('Count'), max_tokens: 6, temperature: 0, logprobs: true, top_logprobs: 3,
  });
  const lp = r.choices[0].logprobs.content;
  assert.equal(lp.length, 6);
  for (const e of lp) {
    assert.ok(e.logprob <= 0);
    assert.equal(e.top_logprobs.length, 3);
    assert.equal(e.top_logprobs[0].token, e.token); // greedy: the chosen token is the most likely
    assert.ok(Math.abs(e.top_logprobs[0].logprob - e.logprob) < 1e-6);
    for (let i = 1; i < 3; i++) assert.ok(e.top_logprobs[i].logprob <= e.top_logprobs[i - 1].logprob);
    assert.deepEqual(Buffer.from(e.bytes).toString('utf8'), e.token);
  }
  assert.equal(lp.map((e) => e.token).join(''), (r.choices[0].message.reasoning_content ?? '') + (r.choices[0].message.content ?? ''));
});

test('n choices', async () => {
  const r = await moe.client.completions.create({ model: (await moe.client.models.list()).data[0].id, prompt: 'Hello', max_tokens: 8, temperature: 1.2, n: 3, seed: 7 });
  assert.equal(r.choices.length, 3);
  assert.deepEqual(r.choices.map((c) => c.index), [0, 1, 2]);
  assert.equal(r.usage.completion_tokens, 24);
});

test('tokenize and detokenize', async () => {
  const t = await (await fetch(`${srv.url}/tokenize`, { method: 'POST', body: JSON.stringify({ content: 'Hello world! Once upon a time' }) })).json();
  assert.deepEqual(t.tokens, [9707, 1879, 0, 9646, 5193, 264, 882]);
  const d = await (await fetch(`${srv.url}/detokenize`, { method: 'POST', body: JSON.stringify({ tokens: t.tokens }) })).json();
  assert.equal(d.content, 'Hello world! Once upon a time');
});

test('metrics in Prometheus text format', async () => {
  const text = await (await fetch(`${srv.url}/metrics`)).text();
  for (const name of ['pangolin_requests_running', 'pangolin_requests_waiting', 'pangolin_prompt_tokens_total',
    'pangolin_generation_tokens_total', 'pangolin_time_to_first_token_seconds_bucket', 'pangolin_inter_token_latency_seconds_bucket',
    'pangolin_kv_cache_usage_ratio', 'pangolin_prefix_cache_hit_tokens_total']) assert.match(text, new RegExp(`^${name}`, 'm'));
});

test('a repeated prompt is served from the prefix cache', async () => {
  const long = 'The LORD is my shepherd; I shall not want. '.repeat(8);
  const params = { model: 'tiny-r1-distill-qwen2-q8_0.gguf', messages: ask(long), max_tokens: 2, temperature: 0 };
  await srv.client.chat.completions.create(params);
  const again = await srv.client.chat.completions.create(params);
  assert.ok(again.usage.prompt_tokens_details.cached_tokens >= 16, JSON.stringify(again.usage));
});
