// The page loads cleanly, names its backend and WebGPU adapter, shows a
// reconstruction of the first sample within FIRST_RECON_MS, and is laid
// out at desktop and phone widths.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, ready, seq, nextRecon, shot, text, FIRST_RECON_MS, CPU } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

test('loads without console errors and reconstructs a sample', async () => {
  const page = await open(browser);
  const ms = await ready(page);
  console.log(`first reconstruction after ${ms} ms (budget ${FIRST_RECON_MS} ms)`);
  const backend = await text(page, 'backend');
  console.log(`backend: ${backend}`);
  assert.match(backend, /^WebGPU backend · adapter \S+/, 'the WebGPU backend runs on a reported adapter');
  assert.match(await text(page, 'recon-mse'), /^\d+\.\d+$/);
  const masked = page.locator('[data-testid=canvas-masked]');
  // the default model's grid, masked at the official ratio 0.75 (keep int(L/4))
  const L = Number(await masked.getAttribute('data-patches'));
  assert.ok([64, 196].includes(L), `a bundled model's grid (${L} patches)`);
  assert.equal(Number(await masked.getAttribute('data-masked')), L - Math.floor(L * 0.25));
  // every panel has pixels: not blank
  for (const id of ['canvas-original', 'canvas-masked', 'canvas-recon', 'canvas-paste']) {
    const distinct = await page.$eval(`[data-testid=${id}]`, (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      return new Set(Array.from({ length: d.length / 4 }, (_, i) => d[4 * i] * 65536 + d[4 * i + 1] * 256 + d[4 * i + 2])).size;
    });
    assert.ok(distinct > 50, `${id} shows an image (${distinct} colours)`);
  }
  await shot(page, 'load-1280x800');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('narrow screen layout', async () => {
  const page = await open(browser, { viewport: { width: 390, height: 844 } });
  await ready(page, CPU);
  assert.match(await text(page, 'backend'), /^CPU backend \(Go wasm\) · WebGPU not used: the page was opened with \?backend=cpu/);
  const overflow = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth);
  assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
  await shot(page, 'load-390x844');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('when the WebGPU device is lost the page continues on the CPU', async () => {
  const page = await open(browser);
  // keep a handle on the device the app opens, to destroy it
  await page.addInitScript(() => {
    const request = GPUAdapter.prototype.requestDevice;
    GPUAdapter.prototype.requestDevice = async function (...args) {
      const device = await request.apply(this, args);
      window.__webmaeDevices = [...(window.__webmaeDevices || []), device];
      return device;
    };
  });
  await ready(page);
  assert.match(await text(page, 'backend'), /^WebGPU backend/);
  await page.evaluate(() => window.__webmaeDevices.forEach((d) => d.destroy()));
  await page.click('[data-testid=mask-reroll]');
  await page.waitForFunction(() => /^CPU backend/.test(document.querySelector('[data-testid=backend]').textContent), null, { timeout: 60_000 });
  assert.match(await text(page, 'error'), /The WebGPU device was lost .*continues on the CPU backend/);
  const n = await seq(page);
  await page.click('[data-testid=mask-reroll]');
  await nextRecon(page, n);
  assert.match(await text(page, 'recon-mse'), /^\d+\.\d+$/);
  await shot(page, 'device-lost');
  await page.context().close();
});
