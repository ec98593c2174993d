// Offline: after a first visit, the service worker has cached the app
// (cache name = the site's version), so a reload works with the server
// gone and the network off; it has not downloaded the files that only
// /selftest and /bench read. This test runs its own server so that it can
// take it down.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { launch, open, shot, text, FIRST_RECON_MS } from '../lib.mjs';

let browser, server;
before(async () => { browser = await launch(); });
after(async () => { server?.kill(); await browser?.close(); });

async function startServer() {
  const bin = process.env.WEBMAE_BIN;
  assert.ok(bin, 'WEBMAE_BIN names the webmae binary');
  server = spawn(bin, ['serve', '-addr', '127.0.0.1:0', '-dir', process.env.WEBMAE_SITE || 'public'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  for await (const chunk of server.stdout) {
    out += chunk;
    const m = out.match(/^serving (http:\/\/\S+)/m);
    if (m) return m[1];
  }
  throw new Error(`server did not start: ${out}`);
}

test('a second visit works offline', async () => {
  const url = await startServer();
  const page = await open(browser);
  await page.goto(url + '/');
  await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: FIRST_RECON_MS });
  // wait until the service worker is active and its cache holds the app
  const cached = await page.evaluate(async () => {
    await navigator.serviceWorker.ready;
    for (let i = 0; i < 300; i++) {
      for (const key of await caches.keys()) {
        const urls = (await (await caches.open(key)).keys()).map((r) => new URL(r.url).pathname);
        if (['/', '/web/app.wasm', '/app.js', '/wasm_exec.js', '/web/samples/chelsea.jpg', '/web/webmae.css', '/web/icon.svg'].every((p) => urls.includes(p))) {
          return { key, count: urls.length };
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  });
  assert.ok(cached, 'the service worker cached the app');
  console.log(`cache ${cached.key}: ${cached.count} files`);
  // The first visit's worker took control of the page: that is this
  // version, not "a new version downloaded".
  assert.equal(await page.evaluate(() => window.webmaeControlledAtLoad), false, 'no worker controlled the first visit at load');
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  await page.waitForTimeout(500); // go-app's update notice would follow the worker's activation
  assert.equal(await page.locator('[data-testid=update]').count(), 0, 'no update banner on a first visit');
  // The site holds the self-test's references (and TensorFlow.js when
  // e2e's npm packages are installed); a visit to the demo alone caches
  // none of them.
  assert.ok(existsSync(join(process.env.WEBMAE_SITE || 'public', 'web/reference/mae_tiny.safetensors')), 'the site holds the references');
  const pagesOnly = await page.evaluate(async () => {
    const all = [];
    for (const key of await caches.keys()) all.push(...(await (await caches.open(key)).keys()).map((r) => new URL(r.url).pathname));
    return all.filter((p) => p.startsWith('/web/reference/') || p.startsWith('/web/vendor/'));
  });
  assert.deepEqual(pagesOnly, [], 'the demo caches none of the self-test\'s or the benchmark\'s files');

  server.kill();
  await once(server, 'exit');
  server = null;
  await page.context().setOffline(true);
  page.errors.length = 0;
  await page.reload();
  await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: FIRST_RECON_MS });
  assert.match(await text(page, 'recon-mse'), /^\d+\.\d+$/);
  assert.equal(await page.evaluate(() => window.webmaeControlledAtLoad), true, 'the reload was controlled by the worker from the start');
  await shot(page, 'offline-reload');
  // Offline, the only errors allowed are the failed service-worker update checks.
  const unexpected = page.errors.filter((e) => !/ServiceWorker|service worker|Failed to fetch|ERR_INTERNET_DISCONNECTED|Failed to load resource/i.test(e));
  assert.deepEqual(unexpected, []);
  await page.context().close();
});
