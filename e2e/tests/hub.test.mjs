// Models by Hugging Face id, kept in the browser. A local server with the
// hub's layout (/<org>/<name>/resolve/<revision>/<file>, weights answered
// by a 302 redirect to a "CDN" path, as huggingface.co does) serves the
// PyTorch reference parameters; the page loads them by id with a progress
// bar, keeps them, restores them after an offline reload without asking
// the server, and deletes them. A 404, a dropped connection and a
// cancelled download leave the previous model in place. Last, a
// base-shaped official checkpoint (random weights, 224 px, written by
// engine/model's TestOfficialCheckpointRoundTrip) reconstructs on WebGPU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baseURL, launch, open, ready, seq, nextRecon, shot, text, CPU, FIRST_RECON_MS } from '../lib.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const td = (p) => readFileSync(join(root, 'testdata', p));
const repos = {
  'test-org/mae-micro': { 'config.json': td('reference/mae_tiny.config.json'), 'model.safetensors': td('reference/mae_tiny.safetensors') },
  'test-org/mae-bin': { 'config.json': td('pth/hf/config.json'), 'pytorch_model.bin': td('pth/hf/pytorch_model.bin') },
  'test-org/mae-drop': { 'config.json': td('reference/mae_tiny.config.json'), 'model.safetensors': td('reference/mae_tiny.safetensors') },
  'test-org/mae-slow': { 'config.json': td('reference/mae_tiny.config.json'), 'model.safetensors': td('reference/mae_tiny.safetensors') },
  'test-org/no-cors': { 'config.json': td('reference/mae_tiny.config.json'), 'model.safetensors': td('reference/mae_tiny.safetensors') },
};
const weightFiles = new Set(['model.safetensors', 'pytorch_model.bin']);

let browser, page, hub, requests = [];

// serve answers like the hub: files under resolve/, weights by redirect,
// streamed in chunks so that progress shows; mae-drop closes the
// connection half way, mae-slow takes 20 s, no-cors does not let other
// origins read its answers.
function serve(req, res) {
  requests.push(req.url);
  if (!req.url.includes('/no-cors/')) res.setHeader('Access-Control-Allow-Origin', '*');
  const m = req.url.match(/^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/([^/?]+)$/);
  const cdn = req.url.match(/^\/cdn\/([^/]+\/[^/]+)\/([^/?]+)$/);
  if (m && repos[m[1]]?.[m[3]] && m[2] === 'main') {
    if (weightFiles.has(m[3])) {
      res.writeHead(302, { Location: `/cdn/${m[1]}/${m[3]}` });
      return res.end();
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(repos[m[1]][m[3]]);
  }
  if (cdn && repos[cdn[1]]?.[cdn[2]]) {
    const body = repos[cdn[1]][cdn[2]];
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length });
    const chunks = cdn[1] === 'test-org/mae-slow' ? 100 : 8;
    const size = Math.ceil(body.length / chunks);
    let i = 0;
    const next = () => {
      if (cdn[1] === 'test-org/mae-drop' && i === chunks / 2) return res.socket.destroy();
      if (i * size >= body.length) return res.end();
      res.write(body.subarray(i * size, ++i * size));
      setTimeout(next, cdn[1] === 'test-org/mae-slow' ? 200 : 150);
    };
    return next();
  }
  res.writeHead(404);
  res.end('not found');
}

before(async () => {
  hub = http.createServer(serve).listen(0, '127.0.0.1');
  await new Promise((r) => hub.on('listening', r));
  browser = await launch();
  page = await open(browser);
  await ready(page, `${CPU}&hub=http://127.0.0.1:${hub.address().port}`);
});
after(async () => { await browser?.close(); hub?.close(); });

const summary = (attr) => page.getAttribute('[data-testid=model-summary]', attr);

async function loadID(id) {
  await page.fill('[data-testid=hub-input]', id);
  await page.click('[data-testid=hub-load]');
}

async function refused(id, pattern) {
  const before = { src: await text(page, 'model-summary'), n: await seq(page) };
  await loadID(id);
  await page.waitForSelector('[data-testid=error]', { timeout: 30_000 });
  assert.match(await text(page, 'error'), pattern);
  assert.match(await text(page, 'error'), /the previous model stays/);
  assert.equal(await text(page, 'model-summary'), before.src);
  await page.click('[data-testid=mask-reroll]');
  await nextRecon(page, before.n);
  await page.click('.banner.error button');
}

test('load by id with progress, following the redirect', async () => {
  const n = await seq(page);
  await loadID('test-org/mae-micro');
  const progress = await page.waitForSelector('[data-testid=model-progress][max]', { timeout: 30_000 });
  assert.equal(Number(await progress.getAttribute('max')), repos['test-org/mae-micro']['model.safetensors'].length);
  await page.waitForSelector('[data-testid=model-summary][data-image-size="32"][data-origin="id"]', { timeout: 30_000 });
  await nextRecon(page, n);
  assert.equal(await summary('data-params'), '135360');
  assert.match(await text(page, 'model-summary'), /test-org\/mae-micro/);
  assert.ok(requests.includes('/cdn/test-org/mae-micro/model.safetensors'), 'the weights came through the redirect');
  await page.waitForSelector('[data-testid=cache-item-0]');
  assert.match(await text(page, 'cache-item-0'), /test-org\/mae-micro \(in use\) · id · 535\.2 KiB/);
  await shot(page, 'hub-loaded');
});

test('a repository with only pytorch_model.bin', async () => {
  const n = await seq(page);
  await loadID('test-org/mae-bin');
  await page.waitForFunction(() => /mae-bin/.test(document.querySelector('[data-testid=model-summary]').textContent), null, { timeout: 30_000 });
  await nextRecon(page, n);
  assert.ok(requests.includes('/test-org/mae-bin/resolve/main/model.safetensors'), 'model.safetensors was tried first');
  assert.ok(requests.includes('/cdn/test-org/mae-bin/pytorch_model.bin'));
  await page.waitForSelector('[data-testid=cache-item-1]');
  assert.match(await text(page, 'cache-total'), /2 model\(s\), 1\.1 MiB/);
});

test('a 404 keeps the previous model', async () => {
  await refused('test-org/missing', /HTTP 404/);
});

test('a dropped connection keeps the previous model', async () => {
  await refused('test-org/mae-drop', /connection dropped/);
});

test('a server without CORS keeps the previous model', async () => {
  await refused('test-org/no-cors', /does not allow this page to read it \(CORS\)/);
});

test('a cancelled download keeps the previous model', async () => {
  const before = await text(page, 'model-summary');
  await loadID('test-org/mae-slow');
  await page.waitForSelector('[data-testid=model-progress][max]', { timeout: 30_000 });
  await page.click('[data-testid=hub-cancel]');
  await page.waitForSelector('[data-testid=error]', { timeout: 30_000 });
  assert.match(await text(page, 'error'), /cancelled/);
  assert.equal(await text(page, 'model-summary'), before);
  await page.click('.banner.error button');
});

test('an offline reload restores the kept model without a request', async () => {
  const cached = await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    for (let i = 0; i < 300; i++) {
      for (const key of await caches.keys()) {
        const urls = (await (await caches.open(key)).keys()).map((r) => new URL(r.url).pathname);
        if (['/', '/web/app.wasm', '/app.js', '/wasm_exec.js'].every((p) => urls.includes(p))) return true;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return false;
  });
  assert.ok(cached, 'the service worker cached the app');
  const asked = requests.length;
  await page.context().setOffline(true);
  try {
    await page.goto(baseURL + '/'); // the cached page (the service worker matches it without a query)
    await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: FIRST_RECON_MS });
    assert.equal(await summary('data-origin'), 'id');
    assert.match(await text(page, 'model-summary'), /test-org\/mae-bin/);
    assert.equal(requests.length, asked, `no request to the hub: ${requests.slice(asked)}`);
    await shot(page, 'hub-offline-restored');
    await refused('facebook/vit-mae-base', /this browser is offline/); // the page has no ?hub=: huggingface.co
  } finally {
    await page.context().setOffline(false);
  }
});

test('delete the kept models', async () => {
  await page.goto(`${baseURL}${CPU}&hub=http://127.0.0.1:${hub.address().port}`);
  await page.waitForSelector('[data-testid=cache-item-1]', { timeout: FIRST_RECON_MS });
  await page.click('[data-testid=cache-delete-1]');
  await page.waitForFunction(() => !document.querySelector('[data-testid=cache-item-1]'));
  await page.click('[data-testid=cache-delete-0]');
  await page.waitForFunction(() => !document.querySelector('[data-testid=cache-item-0]'));
  assert.match(await text(page, 'cache-total'), /0 model\(s\), 0 bytes/);
  await ready(page, CPU); // a reload now starts with the bundled model
  assert.equal(await summary('data-origin'), 'bundled');
});

test('a base-shaped official checkpoint reconstructs on WebGPU', { timeout: 900_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'webmae-base-'));
  const pth = join(dir, 'mae_base.pth');
  execFileSync('go', ['test', './engine/model', '-run', '^TestOfficialCheckpointRoundTrip$', '-count=1'],
    { cwd: root, env: { ...process.env, WEBMAE_WRITE_PTH: pth, WEBMAE_PTH_PRESET: 'base' }, stdio: 'inherit' });
  const p = await open(browser);
  await ready(p, '/');
  assert.match(await p.textContent('[data-testid=backend]'), /WebGPU/);
  const n = await p.getAttribute('[data-testid=canvas-recon]', 'data-seq').then(Number);
  const t0 = Date.now();
  await p.locator('[data-testid=model-input]').setInputFiles(pth);
  await p.waitForSelector('[data-testid=model-summary][data-origin="file"][data-image-size="224"]', { timeout: 600_000 });
  await p.waitForFunction((k) => Number(document.querySelector('[data-testid=canvas-recon]').dataset.seq) > k, n, { timeout: 600_000 });
  console.log(`base (${(statSync(pth).size / 2 ** 20).toFixed(0)} MiB .pth, float16): loaded and reconstructed on WebGPU in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  assert.equal(await p.getAttribute('[data-testid=model-summary]', 'data-params'), '111907840');
  assert.match(await p.textContent('[data-testid=recon-mse]'), /^\d+\.\d+$/);
  assert.equal(await p.locator('[data-testid=error]').count(), 0);
  await shot(p, 'hub-base-webgpu');
  await p.close();
});
