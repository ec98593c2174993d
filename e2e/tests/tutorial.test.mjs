// The tutorial's model family in the page: its torch.save .pth (the tutorial's
// state_dict keys) + config.json ("architecture": "vit-pytorch-mae") load,
// the header and model card name the family, the masked view follows the
// tutorial's rule (int(ratio * L) masked), and the download is the
// tutorial's keys + its config.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { launch, open, ready, seq, nextRecon, shot, text, CPU } from '../lib.mjs';

const ref = new URL('../../testdata/tutorial/', import.meta.url).pathname;
let browser, page;
before(async () => { browser = await launch(); page = await open(browser); await ready(page, CPU); });
after(async () => { await browser?.close(); });

test('a tutorial model loads, reconstructs with its masking rule and downloads in its own format', async () => {
  let n = await seq(page);
  await page.locator('[data-testid=model-input]').setInputFiles([join(ref, 'tutorial_mae.pth'), join(ref, 'tutorial_mae.config.json')]);
  await page.waitForFunction(() => /^the tutorial's MAE, 32 px/.test(document.querySelector('[data-testid=model-status]').textContent), null, { timeout: 60_000 });
  await nextRecon(page, n);
  assert.match(await page.locator('.model .facts').textContent(), /vit-pytorch-mae/);
  // ratio 0.7 of 64 patches: the tutorial masks int(44.8) = 44 (the official rule 45)
  n = await seq(page);
  await page.locator('[data-testid=mask-ratio]').fill('0.7');
  await page.waitForFunction(() => document.querySelector('[data-testid=canvas-recon]')?.getAttribute('data-masked') === '44', null, { timeout: 20_000 });
  await shot(page, 'tutorial-model');
  const downloads = [];
  page.on('download', (d) => downloads.push(d));
  await page.click('[data-testid=model-download]');
  for (let i = 0; i < 100 && downloads.length < 2; i++) await page.waitForTimeout(100);
  const dir = mkdtempSync(join(tmpdir(), 'webmae-e2e-'));
  const saved = {};
  for (const d of downloads) {
    saved[d.suggestedFilename()] = join(dir, d.suggestedFilename());
    await d.saveAs(saved[d.suggestedFilename()]);
  }
  const st = readFileSync(saved['model.safetensors']);
  const header = JSON.parse(st.subarray(8, 8 + Number(st.readBigUInt64LE(0))).toString());
  assert.deepEqual(header['encoder.to_patch_embedding.2.weight'].shape, [64, 48]);
  assert.equal(header['patch_to_emb.1.weight'], undefined, 'aliases are not written');
  assert.equal(JSON.parse(readFileSync(saved['config.json'])).architecture, 'vit-pytorch-mae');
  assert.equal(await page.locator('[data-testid=error]').count(), 0);
  assert.deepEqual(page.errors, []);
});
