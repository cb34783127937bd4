// 16 concurrent clients: every output equals the same request run alone (batch invariance).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, E2E_MODEL, MOE_MODEL } from './harness.mjs';

for (const [name, model] of [['e2e', E2E_MODEL], ['moe', MOE_MODEL]]) {
  test(`16 concurrent requests match each run alone (${name})`, async () => {
    const srv = await startServer(model, ['--parallel', '16']);
    try {
      const id = (await srv.client.models.list()).data[0].id;
      const req = (i) => ({
        model: id,
        messages: [{ role: 'user', content: `Request number ${i}: ${'tell me more '.repeat(i % 5)}` }],
        max_tokens: 12, temperature: 1.0, seed: 100 + i, logprobs: true, top_logprobs: 2,
      });
      const together = await Promise.all(Array.from({ length: 16 }, (_, i) => srv.client.chat.completions.create(req(i))));
      for (let i = 0; i < 16; i++) {
        const alone = await srv.client.chat.completions.create(req(i));
        const a = together[i].choices[0], b = alone.choices[0];
        assert.equal(a.message.content, b.message.content, `request ${i}`);
        assert.equal(a.message.reasoning_content, b.message.reasoning_content, `request ${i}`);
        assert.deepEqual(a.logprobs, b.logprobs, `request ${i} logprobs`);
      }
    } finally {
      await srv.stop();
    }
  });
}
