// The chat page at / in a real browser: Debian's headless Chromium driven by playwright-core.
// Type a message, see the streamed answer appear (the same text the API gives), stop a
// generation, reasoning shown collapsible, against a server with --api-key. Leaves a
// screenshot at $PANGOLIN_SCREENSHOT (CTest: <build>/chat-page.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startServer, E2E_MODEL, KJV_MODEL, TEMPLATES } from './harness.mjs';

const KEY = 'page-key';
const CHROMIUM = process.env.PANGOLIN_CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT = process.env.PANGOLIN_SCREENSHOT ?? path.resolve('../../build/chat-page.png');
let kjv, r1, context, profile;

before(async () => {
  kjv = await startServer(KJV_MODEL, ['--model-alias', 'kjv-demo'], { apiKey: KEY });
  r1 = await startServer(E2E_MODEL, ['--chat-template-file', path.join(TEMPLATES, 'deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja'), '--model-alias', 'r1']);
  profile = fs.mkdtempSync(path.join(os.tmpdir(), 'pangolin-chromium-'));  // a fresh user data dir
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1000, height: 720 },
  });
});
after(async () => {
  await context?.close();
  if (profile) fs.rmSync(profile, { recursive: true, force: true });
  await kjv?.stop();
  await r1?.stop();
});

async function setField(page, id, value) {
  await page.fill(`#${id}`, String(value));
  await page.dispatchEvent(`#${id}`, 'change');
}

test('type a message, the answer streams in, stop a generation (with an API key)', async () => {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  await page.goto(kjv.url + '/');
  // no key yet: the page asks for one
  await page.waitForFunction(() => /API key/.test(document.querySelector('#model').textContent));
  assert.ok(await page.isVisible('#api-key'));
  await setField(page, 'api-key', KEY);
  await page.waitForFunction(() => document.querySelector('#model').textContent === 'kjv-demo');
  await setField(page, 'temperature', 0);
  await setField(page, 'top-p', 1);
  await setField(page, 'max-tokens', 40);

  // count the text updates while the answer streams
  await page.evaluate(() => {
    window.updates = 0;
    new MutationObserver(() => window.updates++).observe(document.querySelector('#messages'), { subtree: true, childList: true, characterData: true });
  });
  await page.fill('#input', 'And God said');
  await page.press('#input', 'Enter');
  await page.waitForSelector('.msg.user');
  await page.waitForFunction(() => document.querySelector('#stop').hidden && document.querySelector('.msg.assistant .content')?.textContent.length > 0);
  const answer = await page.textContent('.msg.assistant .content');
  assert.ok((await page.evaluate(() => window.updates)) > 5, 'the answer arrived in several pieces');
  assert.match(await page.textContent('#speed'), /[0-9.]+ tokens\/s/);
  // the same request through the API gives the same text
  const api = await kjv.client.chat.completions.create({ messages: [{ role: 'user', content: 'And God said' }], max_tokens: 40, temperature: 0, top_p: 1 });
  assert.equal(answer, api.choices[0].message.content);

  // stop: a long answer, received slowly (the browser's network is throttled), stopped midway
  const cdp = await context.newCDPSession(page);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: 4000, uploadThroughput: -1 });
  await setField(page, 'max-tokens', 900);
  await setField(page, 'temperature', 1);
  await page.fill('#input', 'Tell me of the kings of Israel');
  await page.click('#send');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant')[1]?.querySelector('.content').textContent.length > 20);
  assert.equal(await page.isVisible('#stop'), true);
  await page.click('#stop');
  await page.waitForFunction(() => document.querySelector('#stop').hidden);
  const stopped = await page.textContent('.msg.assistant:nth-of-type(4) .content');
  assert.equal(await page.textContent('.msg.assistant:nth-of-type(4) .meta'), 'stopped');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal(await page.textContent('.msg.assistant:nth-of-type(4) .content'), stopped, 'no text after stop');
  assert.equal(await page.isEnabled('#send'), true);
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });

  // the conversation goes on after a stop
  await setField(page, 'max-tokens', 12);
  await page.fill('#input', 'Amen');
  await page.press('#input', 'Enter');
  await page.waitForFunction(() => document.querySelectorAll('.msg.assistant').length === 3 && document.querySelector('#stop').hidden &&
    document.querySelectorAll('.msg.assistant')[2].querySelector('.content').textContent.length > 0);
  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.ok(fs.statSync(SCREENSHOT).size > 10000);
  assert.deepEqual(errors, []);
  await page.close();
});

test('reasoning is shown apart, collapsible', async () => {
  const page = await context.newPage();
  await page.goto(r1.url + '/');
  await page.waitForFunction(() => document.querySelector('#model').textContent === 'r1');
  assert.equal(await page.isVisible('#max-tokens'), false);  // no key needed: settings stay folded
  await page.click('#toggle-settings');
  await setField(page, 'max-tokens', 16);
  await setField(page, 'temperature', 0);
  await page.fill('#input', 'What is 2+2?');
  await page.press('#input', 'Enter');
  await page.waitForFunction(() => document.querySelector('#stop').hidden && document.querySelector('.msg.assistant'));
  const api = await r1.client.chat.completions.create({ messages: [{ role: 'user', content: 'What is 2+2?' }], max_tokens: 16, temperature: 0, top_p: 0.95 });
  const reasoning = api.choices[0].message.reasoning_content;
  assert.ok(reasoning.length > 0);
  assert.equal(await page.isVisible('details.reasoning'), true);
  assert.equal(await page.textContent('details.reasoning .text'), reasoning);
  assert.equal(await page.textContent('.msg.assistant .content'), api.choices[0].message.content ?? '');
  const open = () => page.evaluate(() => document.querySelector('details.reasoning').open);
  const before = await open();
  await page.click('details.reasoning summary');
  assert.equal(await open(), !before);
  await page.close();
});
