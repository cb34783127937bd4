// The Responses API (official `openai` client) and the Anthropic Messages API (official
// `@anthropic-ai/sdk`) against the real binary: streamed = non-streamed, the same text as
// chat/completions at temperature 0, reasoning, tool round trips, stop sequences, API keys.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { startServer, collectChat, post, E2E_MODEL, KJV_MODEL, TEMPLATES } from './harness.mjs';

const KEY = 'sk-test-key';
let kjv, r1, qwen;
before(async () => {
  kjv = await startServer(KJV_MODEL, ['--parallel', '4', '--model-alias', 'kjv'], { apiKey: KEY });
  r1 = await startServer(E2E_MODEL, ['--chat-template-file', path.join(TEMPLATES, 'deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja'), '--model-alias', 'r1']);
  qwen = await startServer(E2E_MODEL, ['--chat-template-file', path.join(TEMPLATES, 'Qwen-Qwen2.5-7B-Instruct.jinja'), '--model-alias', 'qwen']);
});
after(async () => {
  await kjv?.stop();
  await r1?.stop();
  await qwen?.stop();
});

// The text of a Responses stream, from its events (the raw event list too).
async function collectResponse(stream) {
  const out = { text: '', reasoning: '', events: [], args: {}, completed: null };
  for await (const ev of stream) {
    out.events.push(ev);
    if (ev.type === 'response.output_text.delta') out.text += ev.delta;
    if (ev.type === 'response.reasoning_text.delta') out.reasoning += ev.delta;
    if (ev.type === 'response.function_call_arguments.delta') out.args[ev.item_id] = (out.args[ev.item_id] ?? '') + ev.delta;
    if (ev.type === 'response.completed' || ev.type === 'response.incomplete') out.completed = ev.response;
  }
  return out;
}

// The text of an Anthropic stream, from its events.
async function collectMessage(stream) {
  const out = { text: '', thinking: '', events: [], json: {}, stop: null, usage: null };
  for await (const ev of stream) {
    out.events.push(ev);
    if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') out.text += ev.delta.text;
    if (ev.type === 'content_block_delta' && ev.delta.type === 'thinking_delta') out.thinking += ev.delta.thinking;
    if (ev.type === 'content_block_delta' && ev.delta.type === 'input_json_delta') out.json[ev.index] = (out.json[ev.index] ?? '') + ev.delta.partial_json;
    if (ev.type === 'message_delta') { out.stop = ev.delta.stop_reason; out.usage = ev.usage; }
  }
  return out;
}

// Output items without their ids (each response numbers its own).
const withoutIds = (items) => items.map(({ id, ...rest }) => rest);
const textOf = (msg) => msg.content.filter((b) => b.type === 'text').map((b) => b.text).join('');

test('responses.create: streamed text equals the non-streamed text, with the Responses events', async () => {
  const params = { model: 'kjv', input: 'And God said', instructions: 'Speak as the prophets.', max_output_tokens: 24, temperature: 0 };
  const full = await kjv.client.responses.create(params);
  assert.equal(full.object, 'response');
  assert.equal(full.status, 'incomplete');
  assert.deepEqual(full.incomplete_details, { reason: 'max_output_tokens' });
  assert.ok(full.output_text.length > 0);
  assert.match(full.output_text, /[a-z]/);
  assert.equal(full.usage.output_tokens, 24);
  assert.equal(full.output.length, 1);
  assert.equal(full.output[0].type, 'message');

  const s = await collectResponse(await kjv.client.responses.create({ ...params, stream: true }));
  assert.equal(s.text, full.output_text);
  const types = s.events.map((e) => e.type);
  assert.equal(types[0], 'response.created');
  assert.equal(types[1], 'response.in_progress');
  assert.equal(types.at(-1), 'response.incomplete');
  for (const t of ['response.output_item.added', 'response.content_part.added', 'response.output_text.delta',
    'response.output_text.done', 'response.content_part.done', 'response.output_item.done']) assert.ok(types.includes(t), t);
  s.events.forEach((e, i) => assert.equal(e.sequence_number, i));
  assert.equal(s.completed.output[0].content[0].text, full.output_text);
  assert.equal(s.completed.output[0].id, s.events.find((e) => e.type === 'response.output_text.delta').item_id);

  // the SDK's stream helper assembles the same response from the events
  const helper = kjv.client.responses.stream({ ...params });
  const final = await helper.finalResponse();
  assert.equal(final.output[0].content[0].text, full.output_text);

  // a response that ends by itself is "completed"
  const short = await collectResponse(await kjv.client.responses.create({ ...params, max_output_tokens: 400, stream: true }));
  if (short.completed.status === 'completed') assert.equal(short.events.at(-1).type, 'response.completed');
});

test('messages.create: streamed text equals the non-streamed text, with the Anthropic events', async () => {
  const params = { model: 'kjv', max_tokens: 24, temperature: 0, system: 'Speak as the prophets.', messages: [{ role: 'user', content: 'And God said' }] };
  const full = await kjv.anthropic.messages.create(params);
  assert.equal(full.type, 'message');
  assert.equal(full.role, 'assistant');
  assert.equal(full.stop_reason, 'max_tokens');
  assert.equal(full.usage.output_tokens, 24);
  assert.ok(textOf(full).length > 0);

  const s = await collectMessage(await kjv.anthropic.messages.create({ ...params, stream: true }));
  assert.equal(s.text, textOf(full));
  assert.equal(s.stop, 'max_tokens');
  assert.equal(s.usage.output_tokens, 24);
  const types = s.events.map((e) => e.type);
  assert.deepEqual([types[0], types[1], types.at(-3), types.at(-2), types.at(-1)],
    ['message_start', 'content_block_start', 'content_block_stop', 'message_delta', 'message_stop']);

  // the SDK's MessageStream assembles the same message
  const final = await kjv.anthropic.messages.stream(params).finalMessage();
  assert.equal(textOf(final), textOf(full));
  assert.equal(final.stop_reason, 'max_tokens');
});

test('the same prompt gives the same text through chat/completions, responses and messages', async () => {
  for (const [srv, model] of [[kjv, 'kjv'], [r1, 'r1']]) {
    for (const prompt of ['In the beginning', 'Blessed are the meek, for']) {
      const chat = await srv.client.chat.completions.create({ model, messages: [{ role: 'user', content: prompt }], max_tokens: 20, temperature: 0 });
      const resp = await srv.client.responses.create({ model, input: [{ role: 'user', content: [{ type: 'input_text', text: prompt }] }], max_output_tokens: 20, temperature: 0 });
      const msg = await srv.anthropic.messages.create({ model, messages: [{ role: 'user', content: [{ type: 'text', text: prompt }] }], max_tokens: 20, temperature: 0 });
      const m = chat.choices[0].message;
      assert.equal(resp.output_text, m.content ?? '', `${model}: responses`);
      assert.equal(textOf(msg), m.content ?? '', `${model}: messages`);
      const reasoning = resp.output.find((i) => i.type === 'reasoning');
      const thinking = msg.content.find((b) => b.type === 'thinking');
      assert.equal(reasoning?.content[0].text ?? '', m.reasoning_content ?? '');
      assert.equal(thinking?.thinking ?? '', m.reasoning_content ?? '');
      assert.equal(resp.usage.input_tokens, chat.usage.prompt_tokens);
    }
  }
});

test('reasoning from the reasoning split: Responses reasoning items and Anthropic thinking blocks, streamed and not', async () => {
  const input = 'What is 2+2?';
  const full = await r1.client.responses.create({ model: 'r1', input, max_output_tokens: 16, temperature: 0 });
  const item = full.output.find((i) => i.type === 'reasoning');
  assert.ok(item && item.content[0].type === 'reasoning_text' && item.content[0].text.length > 0, JSON.stringify(full.output));
  assert.ok(!item.content[0].text.includes('<think>'));
  const s = await collectResponse(await r1.client.responses.create({ model: 'r1', input, max_output_tokens: 16, temperature: 0, stream: true }));
  assert.equal(s.reasoning, item.content[0].text);
  assert.deepEqual(withoutIds(s.completed.output), withoutIds(full.output));

  const msg = await r1.anthropic.messages.create({ model: 'r1', max_tokens: 16, temperature: 0, messages: [{ role: 'user', content: input }] });
  assert.equal(msg.content[0].type, 'thinking');
  assert.equal(msg.content[0].thinking, item.content[0].text);
  const ms = await collectMessage(await r1.anthropic.messages.create({ model: 'r1', max_tokens: 16, temperature: 0, stream: true, messages: [{ role: 'user', content: input }] }));
  assert.equal(ms.thinking, msg.content[0].thinking);
  assert.equal(ms.events[1].content_block.type, 'thinking');
});

const weatherSchema = { type: 'object', properties: { city: { type: 'string', enum: ['Paris', 'Rome', 'Oslo'] } }, required: ['city'], additionalProperties: false };

test('Anthropic tool round trip: tool_use, then tool_result, streamed and not', async () => {
  const tools = [{ name: 'get_weather', description: 'Weather in a city', input_schema: weatherSchema }];
  const messages = [{ role: 'user', content: 'What is the weather in Paris?' }];
  const params = { model: 'qwen', max_tokens: 64, temperature: 0, tools, tool_choice: { type: 'tool', name: 'get_weather' }, messages };
  const first = await qwen.anthropic.messages.create(params);
  assert.equal(first.stop_reason, 'tool_use');
  const use = first.content.find((b) => b.type === 'tool_use');
  assert.ok(use, JSON.stringify(first.content));
  assert.equal(use.name, 'get_weather');
  assert.ok(['Paris', 'Rome', 'Oslo'].includes(use.input.city), JSON.stringify(use.input));
  assert.equal(typeof use.id, 'string');

  // streamed: the same call, its input as input_json_delta
  const s = await collectMessage(await qwen.anthropic.messages.create({ ...params, stream: true }));
  assert.equal(s.stop, 'tool_use');
  const start = s.events.find((e) => e.type === 'content_block_start' && e.content_block.type === 'tool_use');
  assert.equal(start.content_block.name, 'get_weather');
  assert.equal(start.content_block.id, use.id);
  assert.deepEqual(JSON.parse(s.json[start.index]), use.input);
  const helper = await qwen.anthropic.messages.stream(params).finalMessage();
  assert.deepEqual(helper.content.find((b) => b.type === 'tool_use').input, use.input);

  // the result goes back as a tool_result block; the template renders call and result
  const followUp = [...messages, { role: 'assistant', content: first.content },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'Sunny, 21 degrees' }] }];
  const second = await qwen.anthropic.messages.create({ model: 'qwen', max_tokens: 8, temperature: 0, tools, messages: followUp });
  assert.equal(second.role, 'assistant');
  assert.ok(['end_turn', 'max_tokens', 'tool_use'].includes(second.stop_reason));
  assert.ok(second.usage.input_tokens + second.usage.cache_read_input_tokens > first.usage.input_tokens + first.usage.cache_read_input_tokens);
  // what was rendered: count_tokens sees the tool result's tokens
  const counted = await qwen.anthropic.messages.countTokens({ model: 'qwen', tools, messages: followUp });
  const without = await qwen.anthropic.messages.countTokens({ model: 'qwen', tools,
    messages: [...followUp.slice(0, 2), { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: '' }] }] });
  assert.ok(counted.input_tokens > without.input_tokens);
  assert.equal(counted.input_tokens, second.usage.input_tokens + second.usage.cache_read_input_tokens);
  // and it is the prompt the same conversation gets through chat/completions
  const chat = await qwen.client.chat.completions.create({ model: 'qwen', max_tokens: 8, temperature: 0,
    tools: [{ type: 'function', function: { name: 'get_weather', description: 'Weather in a city', parameters: weatherSchema } }],
    messages: [...messages,
      { role: 'assistant', content: null, tool_calls: [{ id: use.id, type: 'function', function: { name: 'get_weather', arguments: JSON.stringify(use.input) } }] },
      { role: 'tool', tool_call_id: use.id, content: 'Sunny, 21 degrees' }] });
  assert.equal(chat.usage.prompt_tokens, counted.input_tokens);
  assert.equal(chat.choices[0].message.content ?? '', textOf(second));
});

test('Responses tool round trip: function_call, then function_call_output, streamed and not', async () => {
  const tools = [{ type: 'function', name: 'get_weather', description: 'Weather in a city', parameters: weatherSchema }];
  const params = { model: 'qwen', input: 'What is the weather in Paris?', tools, tool_choice: { type: 'function', name: 'get_weather' }, max_output_tokens: 64, temperature: 0 };
  const first = await qwen.client.responses.create(params);
  const call = first.output.find((i) => i.type === 'function_call');
  assert.ok(call, JSON.stringify(first.output));
  assert.equal(call.name, 'get_weather');
  assert.ok(['Paris', 'Rome', 'Oslo'].includes(JSON.parse(call.arguments).city));
  const s = await collectResponse(await qwen.client.responses.create({ ...params, stream: true }));
  const streamedCall = s.completed.output.find((i) => i.type === 'function_call');
  assert.equal(s.args[streamedCall.id], call.arguments);
  assert.ok(s.events.some((e) => e.type === 'response.function_call_arguments.done' && e.arguments === call.arguments));
  assert.deepEqual(withoutIds(s.completed.output), withoutIds(first.output));

  const second = await qwen.client.responses.create({ model: 'qwen', tools, max_output_tokens: 8, temperature: 0,
    input: [{ role: 'user', content: 'What is the weather in Paris?' }, call,
      { type: 'function_call_output', call_id: call.call_id, output: 'Sunny, 21 degrees' }] });
  assert.ok(second.usage.input_tokens > first.usage.input_tokens);
  assert.equal(second.output.at(-1).type === 'message' || second.output.at(-1).type === 'function_call', true);
});

test('stop sequences: never emitted; stop_reason and stop_sequence say which', async () => {
  const base = { model: 'kjv', max_tokens: 40, temperature: 0, messages: [{ role: 'user', content: 'And God said' }] };
  const free = textOf(await kjv.anthropic.messages.create(base));
  const at = Math.floor(free.length / 2);
  const stop = free.slice(at, at + 4);
  const cut = await kjv.anthropic.messages.create({ ...base, stop_sequences: ['zzzq', stop] });
  assert.equal(cut.stop_reason, 'stop_sequence');
  assert.equal(cut.stop_sequence, stop);
  assert.equal(textOf(cut), free.slice(0, free.indexOf(stop)));
  const s = await collectMessage(await kjv.anthropic.messages.create({ ...base, stop_sequences: [stop], stream: true }));
  assert.equal(s.text, textOf(cut));
  assert.equal(s.events.find((e) => e.type === 'message_delta').delta.stop_sequence, stop);
});

test('API keys: x-api-key (Anthropic) and Bearer both work, a wrong key is 401 in each API\'s error shape', async () => {
  const body = { max_tokens: 2, messages: [{ role: 'user', content: 'Hi' }] };
  assert.equal((await post(kjv.url, '/v1/messages', body, { 'x-api-key': KEY })).status, 200);
  assert.equal((await post(kjv.url, '/v1/messages', body, { Authorization: `Bearer ${KEY}` })).status, 200);
  const bad = await post(kjv.url, '/v1/messages', body, { 'x-api-key': 'wrong' });
  assert.equal(bad.status, 401);
  assert.equal(bad.body.type, 'error');
  assert.equal(bad.body.error.type, 'authentication_error');
  const badResp = await post(kjv.url, '/v1/responses', { input: 'Hi' }, { 'x-api-key': 'wrong' });
  assert.equal(badResp.status, 401);
  assert.equal(badResp.body.error.type, 'authentication_error');
  assert.equal((await post(kjv.url, '/v1/embeddings', { input: 'Hi' }, { 'x-api-key': KEY })).status, 200);
  const { default: Anthropic } = await import('@anthropic-ai/sdk');
  const wrong = new Anthropic({ baseURL: kjv.url, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(wrong.messages.create({ model: 'kjv', ...body }), (e) => e.status === 401 && e.error?.error?.type === 'authentication_error');
});

test('count_tokens equals the prompt tokens of the same conversation', async () => {
  const messages = [{ role: 'user', content: 'Who made the heavens?' }];
  const counted = await kjv.anthropic.messages.countTokens({ model: 'kjv', system: 'Be brief.', messages });
  const chat = await kjv.client.chat.completions.create({ model: 'kjv', max_tokens: 1, messages: [{ role: 'system', content: 'Be brief.' }, ...messages] });
  assert.equal(counted.input_tokens, chat.usage.prompt_tokens);
});

test('previous_response_id is refused: the server keeps no responses', async () => {
  await assert.rejects(kjv.client.responses.create({ model: 'kjv', input: 'Hi', previous_response_id: 'resp_1' }),
    (e) => e.status === 400 && /previous_response_id/.test(e.message));
});
