// The server under bad input and load answers every request correctly and stays healthy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startServer, E2E_MODEL } from './harness.mjs';

const KEY = 'secret-key-123';
let srv, url, model;
const post = (p, body, headers = {}) => fetch(`${url}${p}`, {
  method: 'POST', body, headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${KEY}`, ...headers },
});
before(async () => {
  srv = await startServer(E2E_MODEL, ['--parallel', '4', '--ctx-size', '2048', '--max-waiting', '256'], { apiKey: KEY });
  url = srv.url;
  model = (await srv.client.models.list()).data[0].id;
});
after(async () => srv?.stop());

async function errorOf(res, status) {
  assert.equal(res.status, status);
  const body = await res.json();
  assert.equal(typeof body.error.message, 'string');
  assert.equal(typeof body.error.type, 'string');
  assert.ok('code' in body.error);
  return body.error;
}

test('missing or wrong API key: 401 on every route but /health', async () => {
  for (const p of ['/v1/models', '/metrics']) {
    await errorOf(await fetch(`${url}${p}`), 401);
    await errorOf(await fetch(`${url}${p}`, { headers: { Authorization: 'Bearer nope' } }), 401);
  }
  await errorOf(await post('/v1/chat/completions', '{}', { Authorization: '' }), 401);
  const bad = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e) => e.status === 401);
  assert.equal((await fetch(`${url}/health`)).status, 200);
});

test('malformed JSON and wrong types: 400 naming the problem', async () => {
  await errorOf(await post('/v1/chat/completions', '{"messages": [}'), 400);
  const cases = [
    [{ messages: 'hello' }, /messages/],
    [{ messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }, /temperature/],
    [{ messages: [{ role: 'user', content: 'x' }], max_tokens: -5 }, /max_tokens/],
    [{ messages: [{ role: 'user', content: 'x' }], n: 'two' }, /'n'/],
    [{ messages: [{ role: 7 }] }, /role/],
    [{ messages: [{ role: 'user', content: 'x' }], stop: [1, 2] }, /stop/],
    [{ messages: [{ role: 'user', content: 'x' }], logit_bias: { abc: 1 } }, /logit_bias/],
    [{ messages: [{ role: 'user', content: 'x' }], stream: 'yes' }, /stream/],
    [[1, 2, 3], /object/],
  ];
  for (const [body, re] of cases) {
    const e = await errorOf(await post('/v1/chat/completions', JSON.stringify(body)), 400);
    assert.match(e.message, re);
  }
  await errorOf(await post('/v1/completions', JSON.stringify({ prompt: { a: 1 } })), 400);
  // unknown fields are ignored
  const ok = await post('/v1/chat/completions', JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], max_tokens: 2, frobnicate: true }));
  assert.equal(ok.status, 200);
});

test('huge body: 413', async () => {
  const huge = JSON.stringify({ model, messages: [{ role: 'user', content: 'a'.repeat(9 << 20) }] });
  await errorOf(await post('/v1/chat/completions', huge), 413);
});

test('prompt over the context: 400 with the numbers', async () => {
  const long = 'word '.repeat(3000);
  let e = await errorOf(await post('/v1/completions', JSON.stringify({ model, prompt: long, max_tokens: 10 })), 400);
  assert.match(e.message, /\d+ tokens.*context of 2048/);
  e = await errorOf(await post('/v1/completions', JSON.stringify({ model, prompt: 'hi', max_tokens: 5000 })), 400);
  assert.match(e.message, /max_tokens \(5000\).*2048/);
});

test('unknown model and unknown route: 404', async () => {
  await errorOf(await post('/v1/chat/completions', JSON.stringify({ model: 'gpt-9', messages: [{ role: 'user', content: 'x' }] })), 404);
  await errorOf(await fetch(`${url}/v2/whatever`, { headers: { Authorization: `Bearer ${KEY}` } }), 404);
});

async function metric(name) {
  const text = await (await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${KEY}` } })).text();
  return Number(text.match(new RegExp(`^${name} ([0-9.e+-]+)`, 'm'))[1]);
}

test('a client that disconnects mid-stream frees its sequence', async () => {
  const ac = new AbortController();
  const stream = await srv.client.chat.completions.create(
    { model, messages: [{ role: 'user', content: 'Go on forever' }], max_tokens: 1500, stream: true, ignore_eos: true },
    { signal: ac.signal });
  let n = 0;
  try {
    for await (const _ of stream) if (++n === 5) ac.abort();
  } catch { /* aborted */ }
  for (let i = 0; i < 100 && (await metric('pangolin_requests_running')) > 0; i++) await new Promise((r) => setTimeout(r, 50));
  assert.equal(await metric('pangolin_requests_running'), 0);
  assert.ok((await metric('pangolin_generation_tokens_total')) < 1000, 'generation stopped early');
});

test('200 rapid requests are all answered', async () => {
  const body = JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2, temperature: 0 });
  const statuses = await Promise.all(Array.from({ length: 200 }, () => post('/v1/chat/completions', body).then(async (r) => {
    const j = await r.json();
    if (r.status === 200) assert.equal(j.choices.length, 1);
    else assert.ok(j.error);
    return r.status;
  })));
  assert.ok(statuses.every((s) => s === 200 || s === 503), JSON.stringify(statuses));
  assert.ok(statuses.filter((s) => s === 200).length >= 100);
  assert.equal((await fetch(`${url}/health`)).status, 200);
  const after = await srv.client.chat.completions.create({ model, messages: [{ role: 'user', content: 'still there?' }], max_tokens: 2 });
  assert.equal(after.choices.length, 1);
});
