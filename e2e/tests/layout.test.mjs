// The page at desktop (1280x800) and phone (390x844) sizes: the loss chart
// has axis titles, a legend, whole-step ticks and labels of at least 11 CSS
// px; choosing a sample in the gallery brings the panels into view; the
// header's chips are not cut off; nothing scrolls sideways.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { launch, open, ready, choosePreset, seq, nextRecon, shot, text, artifacts, CPU } from '../lib.mjs';

const TRAIN_MS = 180_000;
const sizes = [{ width: 1280, height: 800 }, { width: 390, height: 844 }];
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const name = (v) => `${v.width}x${v.height}`;

// noSideScroll asserts that the page is no wider than the window.
async function noSideScroll(page, v) {
  const w = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(w <= v.width, `no horizontal scrolling at ${name(v)}: scrollWidth ${w}`);
}

// headerFits asserts that every chip of the header shows its whole text
// inside the window.
async function headerFits(page, v) {
  const chips = await page.$$eval('.top .chip', (els) => els.map((e) => {
    const r = e.getBoundingClientRect();
    return { id: e.dataset.testid, right: r.right, scroll: e.scrollWidth, client: e.clientWidth };
  }));
  assert.ok(chips.length >= 2);
  for (const c of chips) {
    assert.ok(c.right <= v.width, `${c.id} ends inside the window (${c.right} > ${v.width})`);
    assert.ok(c.scroll <= c.client, `${c.id} is not cut off (${c.scroll} > ${c.client})`);
  }
}

for (const v of sizes) {
  test(`${name(v)}: choosing a sample shows the panels, the header fits`, async () => {
    const page = await open(browser, { viewport: v });
    await ready(page, CPU);
    await noSideScroll(page, v);
    await headerFits(page, v);
    assert.match(await text(page, 'model-status'), /params/);
    await page.screenshot({ path: join(artifacts, `layout-start-${name(v)}.png`) }); // the window
    // from the gallery (below the panels on a phone), choose a sample
    const thumb = page.locator('[data-testid=sample-coffee]');
    await thumb.scrollIntoViewIfNeeded();
    const n = await seq(page);
    await thumb.click();
    await nextRecon(page, n);
    // the smooth scroll settles: the panels' top stays put for 300 ms
    await page.waitForFunction(() => new Promise((done) => {
      const top = () => document.querySelector('.panels').getBoundingClientRect().top;
      const t = top();
      setTimeout(() => done(Math.abs(top() - t) < 1), 300);
    }), null, { timeout: 10_000 });
    const r = await page.$eval('.panels', (el) => {
      const b = el.getBoundingClientRect();
      return { top: b.top, bottom: b.bottom, inner: window.innerHeight };
    });
    assert.ok(r.top >= -1 && r.bottom <= r.inner + 1, `the panels are in view after choosing a sample (${r.top}..${r.bottom} of ${r.inner})`);
    assert.equal(await page.getAttribute('[data-testid=sample-coffee]', 'aria-pressed'), 'true');
    await page.screenshot({ path: join(artifacts, `layout-sample-chosen-${name(v)}.png`) }); // the window, as the user sees it
    await noSideScroll(page, v);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test(`${name(v)}: the loss chart is readable`, { timeout: TRAIN_MS + 60_000 }, async () => {
    const page = await open(browser, { viewport: v });
    await ready(page, CPU);
    const chart = page.locator('[data-testid=loss-chart]');
    await chart.scrollIntoViewIfNeeded();
    await chart.screenshot({ path: join(artifacts, `layout-chart-empty-${name(v)}.png`) });
    await choosePreset(page, 'micro');
    for (const [id, value] of [['train-steps', 12], ['train-batch', 2]]) {
      await page.fill(`[data-testid=${id}]`, String(value));
      await page.locator(`[data-testid=${id}]`).blur();
    }
    await page.click('[data-testid=train-start]');
    await page.click('[data-testid=train-confirm-ok]'); // micro replaces the loaded model: the page asks first
    await page.waitForSelector('[data-testid=train-stats][data-state=done]', { timeout: TRAIN_MS });
    assert.equal(await chart.getAttribute('data-points'), '12');
    const labels = await chart.evaluate((el) => {
      const all = (sel) => Array.from(el.querySelectorAll(sel));
      const size = (e) => ({ text: e.textContent, px: parseFloat(getComputedStyle(e).fontSize), h: e.getBoundingClientRect().height });
      return {
        xticks: all('.tick.x').map(size), yticks: all('.tick.y').map(size),
        titles: all('.xtitle, .ytitle').map(size), legend: all('.lc-key').map(size),
      };
    });
    console.log(`${name(v)}: x ticks ${labels.xticks.map((t) => t.text).join(' ')}; y ticks ${labels.yticks.map((t) => t.text).join(' ')}; ` +
      `tick font ${labels.xticks[0].px}px, box ${labels.xticks[0].h.toFixed(1)}px high`);
    assert.deepEqual(labels.xticks.map((t) => t.text), ['0', '5', '10'], 'whole steps only (12 steps)');
    assert.ok(labels.yticks.length >= 2, 'loss ticks');
    assert.deepEqual(labels.titles.map((t) => t.text).sort(), ['loss (masked-patch MSE)', 'step']);
    assert.deepEqual(labels.legend.map((t) => t.text), ['loss of each step', 'running mean']);
    for (const t of [...labels.xticks, ...labels.yticks, ...labels.titles, ...labels.legend]) {
      assert.ok(t.px >= 11 && t.h >= 11, `"${t.text}" is readable: ${t.px}px font, ${t.h}px box`);
    }
    await chart.scrollIntoViewIfNeeded();
    await chart.screenshot({ path: join(artifacts, `layout-chart-${name(v)}.png`) });
    await shot(page, `layout-trained-${name(v)}`);
    await noSideScroll(page, v);
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}
