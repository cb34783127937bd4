// Starts the real `pangolin serve` binary on a free loopback port and hands out an OpenAI
// client for it. PANGOLIN_BINARY and PANGOLIN_SHARED come from CTest.
import { spawn } from 'node:child_process';
import path from 'node:path';
import OpenAI from 'openai';
import Anthropic from '@anthropic-ai/sdk';

export const BINARY = process.env.PANGOLIN_BINARY ?? path.resolve('../../build/pangolin');
export const SHARED = process.env.PANGOLIN_SHARED ?? path.resolve('../../../shared');
export const E2E_MODEL = path.join(SHARED, 'fixtures/e2e/tiny-r1-distill-qwen2-q8_0.gguf');
export const MOE_MODEL = path.join(SHARED, 'fixtures/models/qwen3moe/model-q8_0.gguf');
// The demo model: a small real Llama that writes English (King James Bible).
export const KJV_MODEL = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../models/kjv-demo-q8_0.gguf');
export const TEMPLATES = path.join(SHARED, 'fixtures/templates');

export async function startServer(model, extraArgs = [], { apiKey } = {}) {
  const args = ['serve', '-m', model, '--port', '0', '-t', '2', ...extraArgs];
  if (apiKey) args.push('--api-key', apiKey);
  const proc = spawn(BINARY, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${stderr}`)), 60000);
    proc.stderr.on('data', (d) => {
      stderr += d;
      const m = stderr.match(/listening on (http:\/\/[^\s]+)/);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited (${code}):\n${stderr}`)); });
  });
  // wait until the model is loaded
  for (let i = 0; i < 600; i++) {
    const r = await fetch(`${url}/health`).catch(() => null);
    if (r && r.status === 200) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: apiKey ?? 'none', maxRetries: 0, timeout: 120000 });
  // the official Anthropic client: POST {url}/v1/messages with 'x-api-key'
  const anthropic = new Anthropic({ baseURL: url, apiKey: apiKey ?? 'none', maxRetries: 0, timeout: 120000 });
  return {
    url,
    client,
    anthropic,
    proc,
    stderr: () => stderr,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', r)));
    },
  };
}

// Collects a streamed chat completion into {content, reasoning, chunks, usage, finish}.
export async function collectChat(stream) {
  const out = { content: '', reasoning: '', chunks: [], usage: null, finish: null, toolCalls: [] };
  for await (const chunk of stream) {
    out.chunks.push(chunk);
    if (chunk.usage) out.usage = chunk.usage;
    for (const c of chunk.choices) {
      if (c.delta?.content) out.content += c.delta.content;
      if (c.delta?.reasoning_content) out.reasoning += c.delta.reasoning_content;
      if (c.delta?.tool_calls) {
        for (const tc of c.delta.tool_calls) {
          const slot = (out.toolCalls[tc.index] ??= { id: '', name: '', arguments: '' });
          if (tc.id) slot.id = tc.id;
          if (tc.function?.name) slot.name += tc.function.name;
          if (tc.function?.arguments) slot.arguments += tc.function.arguments;
        }
      }
      if (c.finish_reason) out.finish = c.finish_reason;
    }
  }
  return out;
}

// POST a JSON body (or raw text) to the server; returns {status, body} with body parsed when JSON.
export async function post(url, route, body, headers = {}) {
  const res = await fetch(`${url}${route}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, body: json, text };
}
