// Errors a person can cause, at desktop and phone sizes, read as one
// sentence that says what happened and what to do, with the technical
// detail in the console as a warning (never a console error): a corrupt
// model file, a model file with a config of another size, a malformed
// Hugging Face id, browser storage that is full, a damaged saved training
// run, and a browser without WebGPU.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, open, ready, seq, nextRecon, text, artifacts, CPU } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

// INTERNALS are words of the code, not of the person using the page.
const INTERNALS = /header length|safetensors:|InvalidStateError|QuotaExceededError|TypeError|load model:|\bjs:/;

async function openPage(v, init, contextOptions) {
  const context = contextOptions && await browser.newContext({ viewport: v, ...contextOptions });
  const page = await open(browser, { viewport: v, context });
  page.warnings = [];
  page.on('console', (m) => { if (m.type() === 'warning') page.warnings.push(m.text()); });
  if (init) await page.addInitScript(init);
  await ready(page, CPU);
  return page;
}

// refused waits for the error banner, checks it is one sentence without
// internals and that the detail went to the console, and dismisses it.
async function refused(page, pattern, detail, shotName) {
  await page.waitForSelector('[data-testid=error]', { timeout: 30_000 });
  const msg = await text(page, 'error');
  console.log(`  ${msg}`);
  assert.match(msg, pattern);
  assert.doesNotMatch(msg, INTERNALS);
  assert.equal(msg.split(/[.:] [A-Z]/).length, 1, `one sentence: ${msg}`);
  assert.ok(/\.$/.test(msg), `ends with a full stop: ${msg}`);
  assert.ok(page.warnings.some((w) => detail.test(w)), `the console has the detail ${detail}: ${page.warnings.join(' | ')}`);
  await page.locator('.banners').screenshot({ path: join(artifacts, `${shotName}.png`) });
  await page.click('.banner.error button');
}

for (const v of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
  const size = `${v.width}x${v.height}`;

  test(`${size}: model files and ids that cannot be loaded`, async () => {
    const page = await openPage(v);
    const status = await text(page, 'model-status');
    const input = page.locator('[data-testid=model-input]');
    await input.setInputFiles([{ name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('garbage, not safetensors') }]);
    await refused(page, /^The weights file is not a model this page can read .*the previous model stays.*: choose a \.safetensors, \.pth, \.pt or \.bin file/,
      /header length \d+ (exceeds|is over)/, `errors-corrupt-model-${size}`);
    const config = JSON.stringify({ model_type: 'vit_mae', image_size: 224, patch_size: 16, num_channels: 3, hidden_size: 96, num_hidden_layers: 2, num_attention_heads: 3, intermediate_size: 384, decoder_hidden_size: 64, decoder_num_hidden_layers: 1, decoder_num_attention_heads: 2, decoder_intermediate_size: 256, mask_ratio: 0.75 });
    await input.setInputFiles([{ name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(new URL('../../public/models/model.safetensors', import.meta.url)) },
      { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(config) }]);
    await refused(page, /^The weights do not fit the config \(other tensor names or shapes\).*: choose the config\.json saved with these weights\.$/,
      /mis-shaped|shape/, `errors-wrong-shape-${size}`);
    await page.fill('[data-testid=hub-input]', 'not a model id');
    await page.click('[data-testid=hub-load]');
    await refused(page, /^Could not load that model: "not a model id" is not a model id: use org\/name, org\/name@revision or a URL to a weights file\.$/,
      /not a model id/, `errors-bad-id-${size}`);
    assert.equal(await text(page, 'model-status'), status, 'the model is unchanged');
    const n = await seq(page);
    await page.click('[data-testid=mask-reroll]');
    await nextRecon(page, n);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test(`${size}: browser storage that is full`, async () => {
    const page = await openPage(v, () => {
      StorageManager.prototype.getDirectory = () => Promise.reject(new DOMException('The quota has been exceeded.', 'QuotaExceededError'));
    });
    const note = page.locator('[data-testid=cache-note]');
    await note.waitFor({ timeout: 30_000 });
    const msg = await note.textContent();
    console.log(`  ${msg}`);
    assert.match(msg, /^The browser's storage for this page is full, so the page could not keep models in this browser \(a reload loses them\): delete kept models in the Model card, or free disk space, and try again\.$/);
    assert.ok(page.warnings.some((w) => /QuotaExceededError/.test(w)), 'the console has the detail');
    await page.locator('.model').screenshot({ path: join(artifacts, `errors-storage-full-${size}.png`) });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test(`${size}: a damaged saved training run`, async () => {
    const page = await openPage(v);
    await page.evaluate(async () => {
      const dir = await navigator.storage.getDirectory();
      const w = await (await dir.getFileHandle('webmae-run.safetensors', { create: true })).createWritable();
      await w.write(new TextEncoder().encode('garbage, not a checkpoint'));
      await w.close();
    });
    page.warnings = [];
    await ready(page, CPU);
    const note = page.locator('.train .note.warn');
    await note.waitFor({ timeout: 30_000 });
    const msg = await note.textContent();
    console.log(`  ${msg}`);
    assert.equal(msg, 'The training run saved in this browser is damaged or cut short, so it cannot continue: start a new run, which replaces it.');
    assert.ok(page.warnings.some((w) => /checkpoint in this browser's storage: .*header length/.test(w)), `the console has the detail: ${page.warnings.join(' | ')}`);
    await note.screenshot({ path: join(artifacts, `errors-damaged-run-${size}.png`) });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test(`${size}: a browser without WebGPU`, async () => {
    const page = await open(browser, { viewport: v });
    await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }));
    await ready(page, '/');
    assert.match(await text(page, 'backend'), /^CPU backend \(Go wasm\) · this browser has no WebGPU, so the page computes on the CPU \(slower\): a recent Chrome, Edge or Safari has it( · reconstructions in a Web Worker)?$/);
    const chip = await page.$eval('[data-testid=backend]', (e) => ({ right: e.getBoundingClientRect().right, scroll: e.scrollWidth, client: e.clientWidth }));
    assert.ok(chip.right <= v.width && chip.scroll <= chip.client, `the chip is not cut off: ${JSON.stringify(chip)}`);
    await page.locator('.top').screenshot({ path: join(artifacts, `errors-no-webgpu-${size}.png`) });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test(`${size}: a sample photo that cannot be fetched`, async () => {
    // without the service worker, whose requests page.route cannot see
    const page = await openPage(v, null, { serviceWorkers: 'block' });
    await page.route('**/samples/grass.jpg', (r) => r.abort('internetdisconnected'));
    await page.click('[data-testid=sample-grass]');
    await refused(page, /^The sample photo Grass could not be fetched \(.*\), so the page could not show the sample photo: check the connection and try again\.$/,
      /sample grass: fetch .*grass\.jpg/, `errors-sample-offline-${size}`);
    assert.equal(await page.getAttribute('[data-testid=sample-chelsea]', 'aria-pressed'), 'true', 'the previous picture stays');
    // the browser itself logs the failed request, and go-app the blocked
    // service worker; the page logs no error
    assert.deepEqual(page.errors.filter((e) => !/Failed to load resource|service worker registration failed/.test(e)), []);
    await page.context().close();
  });
}
