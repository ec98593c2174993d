// The masking ratio slider sets exactly L - int(L (1 - ratio)) masked
// patches and changes the reconstruction; re-roll and hand-toggled
// patches change the mask; the ratio follows a hand-made mask.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launch, open, ready, seq, nextRecon, pixels, shot, maskedFor, CPU } from '../lib.mjs';

let browser, page;
before(async () => { browser = await launch(); page = await open(browser); await ready(page, CPU); });
after(async () => { await browser?.close(); });

const masked = () => page.getAttribute('[data-testid=canvas-masked]', 'data-masked').then(Number);

test('ratio slider', async () => {
  const L = Number(await page.getAttribute('[data-testid=canvas-masked]', 'data-patches'));
  let before = await pixels(page, 'canvas-recon');
  for (const r of [0.5, 0.9, 0.3, 0.05, 0.95, 0.66]) {
    const n = await seq(page);
    await page.locator('[data-testid=mask-ratio]').fill(String(r));
    // go-app renders the input event asynchronously: wait for the masked
    // view to take the new ratio, then check the exact count.
    await page.waitForFunction((want) => Number(document.querySelector('[data-testid=canvas-masked]')
      ?.getAttribute('data-masked')) === want, maskedFor(L, r), { timeout: 10000 }).catch(() => {});
    assert.equal(await masked(), maskedFor(L, r), `ratio ${r}`);
    await nextRecon(page, n);
    assert.equal(Number(await page.getAttribute('[data-testid=canvas-recon]', 'data-masked')), maskedFor(L, r));
    const now = await pixels(page, 'canvas-recon');
    assert.notEqual(now, before, `the reconstruction changes at ratio ${r}`);
    before = now;
  }
  await shot(page, 'masking-ratio-0.66');
  assert.deepEqual(page.errors, []);
});

test('re-roll, block-wise and hand-made masks', async () => {
  const L = Number(await page.getAttribute('[data-testid=canvas-masked]', 'data-patches'));
  let n = await seq(page);
  await page.locator('[data-testid=mask-ratio]').fill('0.75'); // from 0.66: more masked
  await nextRecon(page, n);
  const m0 = await pixels(page, 'canvas-masked');
  n = await seq(page);
  await page.click('[data-testid=mask-reroll]');
  await nextRecon(page, n);
  assert.equal(await masked(), maskedFor(L, 0.75));
  assert.notEqual(await pixels(page, 'canvas-masked'), m0, 're-roll draws another mask');

  n = await seq(page);
  await page.check('[data-testid=mask-block]');
  await nextRecon(page, n);
  assert.equal(await masked(), maskedFor(L, 0.75), 'block-wise masking keeps the count');
  await shot(page, 'masking-block');
  await page.uncheck('[data-testid=mask-block]');

  // toggle the top-left patch twice: the count moves by one and back
  const canvas = page.locator('[data-testid=canvas-masked]');
  const box = await canvas.boundingBox();
  const before = await masked();
  n = await seq(page);
  await canvas.click({ position: { x: box.width / 16, y: box.height / 16 } });
  await nextRecon(page, n);
  const after1 = await masked();
  assert.equal(Math.abs(after1 - before), 1, 'one patch toggled');
  const ratio = Number(await page.inputValue('[data-testid=mask-ratio]'));
  assert.ok(Math.abs(ratio - after1 / L) <= 0.005, `the ratio follows the hand-made mask (${ratio} vs ${after1}/${L})`);
  n = await seq(page);
  await canvas.click({ position: { x: box.width / 16, y: box.height / 16 } });
  await nextRecon(page, n);
  assert.equal(await masked(), before);
  assert.deepEqual(page.errors, []);
});
