// Reasoning split, JSON-schema constrained output and a tool-call round trip.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, collectChat, E2E_MODEL, SHARED } from './harness.mjs';

const R1_TEMPLATE = path.join(SHARED, 'fixtures/templates/deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja');
const QWEN_TEMPLATE = path.join(SHARED, 'fixtures/templates/Qwen-Qwen2.5-7B-Instruct.jinja');
let r1, qwen;
before(async () => {
  r1 = await startServer(E2E_MODEL, ['--chat-template-file', R1_TEMPLATE, '--model-alias', 'r1']);
  qwen = await startServer(E2E_MODEL, ['--chat-template-file', QWEN_TEMPLATE, '--model-alias', 'qwen']);
});
after(async () => {
  await r1?.stop();
  await qwen?.stop();
});

test('reasoning opened by the template is returned apart, streamed and not', async () => {
  const params = { model: 'r1', messages: [{ role: 'user', content: 'What is 2+2?' }], max_tokens: 20, temperature: 0 };
  const full = await r1.client.chat.completions.create(params);
  const m = full.choices[0].message;
  // the template ends the prompt inside <think>: everything before </think> is reasoning
  assert.ok(m.reasoning_content.length > 0, JSON.stringify(m));
  assert.equal(m.reasoning, m.reasoning_content);
  assert.ok(!m.reasoning_content.includes('<think>'));
  const streamed = await collectChat(await r1.client.chat.completions.create({ ...params, stream: true }));
  assert.equal(streamed.reasoning, m.reasoning_content);
  assert.equal(streamed.content, m.content ?? '');
});

const schema = {
  type: 'object',
  properties: {
    city: { type: 'string', maxLength: 16 },
    population: { type: 'integer', minimum: 0 },
    tags: { type: 'array', items: { type: 'string', enum: ['old', 'big', 'river'] }, maxItems: 3 },
    capital: { type: 'boolean' },
  },
  required: ['city', 'population', 'capital'],
  additionalProperties: false,
};

function validates(v) {
  assert.equal(typeof v, 'object');
  assert.deepEqual(Object.keys(v).filter((k) => !(k in schema.properties)), []);
  for (const k of schema.required) assert.ok(k in v, `missing ${k}`);
  assert.equal(typeof v.city, 'string');
  assert.ok(v.city.length <= 16);
  assert.ok(Number.isInteger(v.population) && v.population >= 0);
  assert.equal(typeof v.capital, 'boolean');
  if ('tags' in v) for (const t of v.tags) assert.ok(['old', 'big', 'river'].includes(t));
}

test('json_schema output parses and validates', async () => {
  for (const seed of [1, 2, 3, 4]) {
    const r = await qwen.client.chat.completions.create({
      model: 'qwen', messages: [{ role: 'user', content: 'Describe a city as JSON' }], max_tokens: 400, temperature: 1, seed,
      response_format: { type: 'json_schema', json_schema: { name: 'city', schema } },
    });
    assert.equal(r.choices[0].finish_reason, 'stop', JSON.stringify(r.choices[0]));
    validates(JSON.parse(r.choices[0].message.content));
  }
  // json_object: any object. A random-weight model writes endless strings, so quotes and the
  // closing brace are pushed hard with logit_bias: the constraint alone decides what is legal.
  const id = async (t) => (await (await fetch(`${qwen.url}/tokenize`, { method: 'POST', body: JSON.stringify({ content: t }) })).json()).tokens[0];
  const [brace, quote] = [await id('}'), await id('"')];
  for (const seed of [9, 10, 11]) {
    const obj = await qwen.client.chat.completions.create({
      model: 'qwen', messages: [{ role: 'user', content: 'JSON please' }], max_tokens: 800, temperature: 1, seed,
      response_format: { type: 'json_object' }, logit_bias: { [brace]: 100, [quote]: 100 },
    });
    assert.equal(obj.choices[0].finish_reason, 'stop');
    const v = JSON.parse(obj.choices[0].message.content);
    assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v));
  }
});

test('a schema the server cannot enforce is refused', async () => {
  await assert.rejects(
    qwen.client.chat.completions.create({
      model: 'qwen', messages: [{ role: 'user', content: 'x' }],
      response_format: { type: 'json_schema', json_schema: { name: 'x', schema: { type: 'string', format: 'email' } } },
    }),
    (e) => e.status === 400 && /format/.test(e.message),
  );
});

const tools = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string', maxLength: 20 } }, required: ['city'] },
  },
}];

test('tool call round trip', async () => {
  const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const first = await qwen.client.chat.completions.create({
    model: 'qwen', messages, tools, tool_choice: { type: 'function', function: { name: 'get_weather' } },
    max_tokens: 200, temperature: 1, seed: 5,
  });
  const choice = first.choices[0];
  assert.equal(choice.finish_reason, 'tool_calls');
  const call = choice.message.tool_calls[0];
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.match(call.id, /^call_/);
  const args = JSON.parse(call.function.arguments);
  assert.equal(typeof args.city, 'string');
  // the result goes back: the template renders the call and the tool message
  messages.push(choice.message, { role: 'tool', tool_call_id: call.id, content: '{"temperature": 21}' });
  const second = await qwen.client.chat.completions.create({ model: 'qwen', messages, tools, max_tokens: 8, temperature: 0 });
  assert.ok(second.usage.prompt_tokens > first.usage.prompt_tokens);
  assert.equal(second.choices[0].message.role, 'assistant');
  // tool_choice "required" (streamed): at least one call of a declared tool
  const req = await collectChat(await qwen.client.chat.completions.create({
    model: 'qwen', messages: [{ role: 'user', content: 'Weather?' }], tools, tool_choice: 'required', max_tokens: 200,
    temperature: 1, seed: 6, stream: true,
  }));
  assert.equal(req.finish, 'tool_calls');
  assert.ok(req.toolCalls.length >= 1);
  assert.equal(req.toolCalls[0].name, 'get_weather');
  JSON.parse(req.toolCalls[0].arguments);
});
