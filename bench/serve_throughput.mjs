#!/usr/bin/env node
// Aggregate generation throughput of `pangolin serve` against llama-server on the same GGUF,
// same context and parallel slots, at several concurrencies; the engines alternate within
// one run so machine noise hits both alike.
//
// usage: node bench/serve_throughput.mjs MODEL.gguf [--concurrency 1,4,16] [--tokens 128]
//          [--prompt-tokens 64] [--reps 2] [--threads 2] [--llama-server PATH]
// llama-server comes from ../shared/tools/llamacpp-peer.sh llama-server (found in its cache
// folder when not given). Prints a markdown table: tokens/s per engine and the ratio.
import { spawn, execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const model = args[0];
if (!model || !existsSync(model)) {
  console.error('usage: node bench/serve_throughput.mjs MODEL.gguf [--concurrency 1,4,16] [--tokens 128] [--reps 2]');
  process.exit(2);
}
const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const concurrencies = opt('concurrency', '1,4,16').split(',').map(Number);
const nTokens = Number(opt('tokens', '128'));
const promptTokens = Number(opt('prompt-tokens', '64'));
const reps = Number(opt('reps', '2'));
const threads = opt('threads', '2');
const parallel = Math.max(...concurrencies);
const ctx = parallel * (promptTokens + nTokens + 64);
const pangolin = path.join(root, 'build/pangolin');
const peerDir = process.env.PEER_DIR ?? path.join(os.homedir(), '.cache/pangolin-peer');
const llamaServer = opt('llama-server', path.join(peerDir, 'src/build/bin/llama-server'));

function start(cmd, argv, port) {
  const proc = spawn(cmd, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  return { proc, port, err: () => err };
}
async function waitHealthy(port, srv) {
  for (let i = 0; i < 1200; i++) {
    const r = await fetch(`http://127.0.0.1:${port}/health`).catch(() => null);
    if (r && r.status === 200) return;
    if (srv.proc.exitCode !== null) throw new Error(`server exited:\n${srv.err()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become healthy');
}
async function stop(srv) {
  srv.proc.kill('SIGTERM');
  await new Promise((r) => (srv.proc.exitCode !== null ? r() : srv.proc.on('exit', r)));
}

// One request: a prompt of about promptTokens words, then nTokens generated (EOS ignored).
async function request(port, i) {
  const prompt = Array.from({ length: promptTokens }, (_, k) => `w${(i * 7 + k) % 97}`).join(' ');
  const r = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ prompt, max_tokens: nTokens, temperature: 0, ignore_eos: true, stream: false }),
  });
  const j = await r.json();
  if (!r.ok) throw new Error(JSON.stringify(j));
  return j.usage.completion_tokens;
}
async function measure(port, concurrency) {
  await request(port, 999);  // warm-up
  const t0 = performance.now();
  const counts = await Promise.all(Array.from({ length: concurrency }, (_, i) => request(port, i)));
  const secs = (performance.now() - t0) / 1000;
  return counts.reduce((a, b) => a + b, 0) / secs;
}

const engines = [
  { name: 'pangolin', cmd: pangolin, argv: (p) => ['serve', '-m', model, '--port', String(p), '-t', threads, '--parallel', String(parallel), '-c', String(ctx)] },
];
if (existsSync(llamaServer)) {
  engines.push({ name: 'llama-server', cmd: llamaServer,
    argv: (p) => ['-m', model, '--port', String(p), '-t', threads, '-np', String(parallel), '-c', String(ctx), '--no-webui', '-lv', '0'] });
} else {
  console.error(`llama-server not found at ${llamaServer}: build it with ../shared/tools/llamacpp-peer.sh llama-server`);
}

const results = {};  // engine -> concurrency -> [t/s]
let port = 18000 + Math.floor(Math.random() * 1000);
for (let rep = 0; rep < reps; rep++) {
  for (const e of engines) {
    const srv = start(e.cmd, e.argv(++port), port);
    try {
      await waitHealthy(port, srv);
      for (const c of concurrencies) {
        const tps = await measure(port, c);
        ((results[e.name] ??= {})[c] ??= []).push(tps);
        console.error(`rep ${rep + 1}: ${e.name} concurrency ${c}: ${tps.toFixed(1)} tokens/s`);
      }
    } finally {
      await stop(srv);
    }
  }
}
const mean = (v) => v.reduce((a, b) => a + b, 0) / v.length;
console.log(`\nmodel ${path.basename(model)}, ${threads} threads, ${parallel} slots, context ${ctx}, prompt ~${promptTokens} words, ${nTokens} generated tokens per request, ${reps} reps\n`);
console.log('| concurrency | pangolin t/s | llama-server t/s | ratio |');
console.log('|---|---|---|---|');
for (const c of concurrencies) {
  const p = mean(results.pangolin[c]);
  const l = results['llama-server'] ? mean(results['llama-server'][c]) : NaN;
  console.log(`| ${c} | ${p.toFixed(1)} | ${Number.isNaN(l) ? '—' : l.toFixed(1)} | ${Number.isNaN(l) ? '—' : (p / l).toFixed(2)} |`);
}
