// The model: download (Hugging Face safetensors + config.json) and upload
// give a pixel-identical reconstruction for the same mask; malformed and
// mismatched files are refused and the current model stays usable.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, open, ready, choosePreset, seq, nextRecon, pixels, shot, text, CPU } from '../lib.mjs';

let browser, page, dir;
before(async () => {
  browser = await launch(); page = await open(browser); await ready(page, CPU);
  dir = mkdtempSync(join(tmpdir(), 'webmae-e2e-'));
});
after(async () => { await browser?.close(); });

const files = {};

test('download the model', async () => {
  const n = await seq(page);
  await page.locator('[data-testid=mask-ratio]').fill('0.6');
  await nextRecon(page, n);
  files.pixels = await pixels(page, 'canvas-recon');
  const downloads = [];
  page.on('download', (d) => downloads.push(d));
  await page.click('[data-testid=model-download]');
  for (let i = 0; i < 100 && downloads.length < 2; i++) await page.waitForTimeout(100);
  assert.deepEqual(downloads.map((d) => d.suggestedFilename()).sort(), ['config.json', 'model.safetensors']);
  for (const d of downloads) {
    const path = join(dir, d.suggestedFilename());
    await d.saveAs(path);
    files[d.suggestedFilename()] = path;
  }
  const st = readFileSync(files['model.safetensors']);
  const header = JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString());
  assert.deepEqual(header['vit.embeddings.patch_embeddings.projection.weight'].shape, [192, 3, 16, 16], 'the default model: patch 16');
  assert.equal(header['vit.embeddings.patch_embeddings.projection.weight'].dtype, 'F32');
  const cfg = JSON.parse(readFileSync(files['config.json']));
  assert.equal(cfg.model_type, 'vit_mae');
  assert.equal(cfg.hidden_size, 192);
});

test('upload of the downloaded model gives the same reconstruction', async () => {
  // switch to another model first: train a few steps of micro
  await choosePreset(page, 'micro');
  const steps = page.locator('[data-testid=train-steps]');
  await steps.fill('3'); await steps.blur();
  const warmup = page.locator('[data-testid=train-warmup]');
  await warmup.fill('1'); await warmup.blur();
  await page.click('[data-testid=train-start]');
  await page.click('[data-testid=train-confirm-ok]'); // micro replaces the loaded model: the page asks first
  await page.waitForSelector('[data-testid=train-stats][data-state=done]', { timeout: 120_000 });
  await page.click('[data-testid=train-stop]');
  assert.match(await text(page, 'model-status'), /^micro/);
  assert.notEqual(await pixels(page, 'canvas-recon'), files.pixels);
  const n = await seq(page);
  await page.locator('[data-testid=model-input]').setInputFiles([files['model.safetensors'], files['config.json']]);
  await page.waitForFunction(() => /model\.safetensors \(Hugging Face names\)/.test(document.querySelector('[data-testid=model-status]').textContent), null, { timeout: 60_000 });
  await nextRecon(page, n);
  assert.equal(await pixels(page, 'canvas-recon'), files.pixels, 'pixel-identical reconstruction (ratio 0.6, same mask seed)');
  await shot(page, 'model-reloaded');
  assert.equal(await page.locator('[data-testid=error]').count(), 0);
  assert.deepEqual(page.errors, []);
});

test('malformed and mismatched model files are refused', async () => {
  const input = page.locator('[data-testid=model-input]');
  const status = await text(page, 'model-status');
  const cases = [
    [[{ name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: Buffer.from('garbage, not safetensors') },
      { name: 'config.json', mimeType: 'application/json', buffer: readFileSync(files['config.json']) }], /not a model this page can read.*the previous model stays/],
    [[{ name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(files['model.safetensors']) },
      { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from('{"hidden_size": 64, "image_size": 32') }], /config/],
    [[{ name: 'model.safetensors', mimeType: 'application/octet-stream', buffer: readFileSync(files['model.safetensors']) },
      { name: 'config.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ ...JSON.parse(readFileSync(files['config.json'])), hidden_size: 96, num_attention_heads: 3 })) }], /shape/],
  ];
  for (const [set, pattern] of cases) {
    await input.setInputFiles(set);
    await page.waitForSelector('[data-testid=error]');
    const msg = await text(page, 'error');
    console.log(`refused: ${msg.slice(0, 160)}`);
    assert.match(msg, pattern);
    assert.equal(await text(page, 'model-status'), status, 'the model is unchanged');
    await shot(page, 'model-refused');
    await page.click('.banner.error button');
  }
  // the current model still reconstructs
  const n = await seq(page);
  await page.click('[data-testid=mask-reroll]');
  await nextRecon(page, n);
});
