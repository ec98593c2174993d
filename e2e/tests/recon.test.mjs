// The reconstruction view (issue 13): the busy overlay on the panels
// (with the GPU pipelines' "k of n"), the same mask's baselines and the
// unit of the MSE, the per-patch error map, the four panels saved as one
// PNG, the masked view driven by the keyboard, and the ratio readout and
// slider; at 1280x800 and 390x844, with no console errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, open, baseURL, seq, nextRecon, artifacts, CPU, FIRST_RECON_MS, RECON_MS } from '../lib.mjs';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const sizes = [['desktop', { width: 1280, height: 800 }], ['phone', { width: 390, height: 844 }]];

// busyLog records, from the page's first script on, every change of the
// busy overlay (shown or not, its text) and of the reconstruction's
// data-seq, with performance.now() times.
function busyLog() {
  window.__busy = [];
  window.__seqAt = [];
  let shown = null, text = null, seq = null;
  new MutationObserver(() => {
    const el = document.querySelector('[data-testid=recon-busy]');
    const now = { shown: !!el && el.offsetParent !== null, text: el ? el.textContent : '' };
    if (now.shown !== shown || now.text !== text) {
      window.__busy.push({ t: performance.now(), ...now });
      shown = now.shown; text = now.text;
    }
    const s = document.querySelector('[data-testid=canvas-recon]')?.dataset.seq;
    if (s !== undefined && s !== seq) { window.__seqAt.push({ t: performance.now(), seq: Number(s) }); seq = s; }
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
}

async function openAt(viewport, path = CPU) {
  const page = await open(browser, { viewport });
  await page.addInitScript(busyLog);
  await page.goto(baseURL + path);
  return page;
}

const shotCard = (page, name) => page.locator('section.recon').screenshot({ path: join(artifacts, `${name}.png`) });
const baselineReady = (page, drawSeq) => page.waitForFunction((n) => {
  const el = document.querySelector('[data-testid=recon-baseline]');
  return el?.dataset.ready === 'true' && Number(el.dataset.seq) >= n;
}, drawSeq, { timeout: RECON_MS });

for (const [name, viewport] of sizes) {
  test(`busy overlay, baselines, unit and ratio readout (${name})`, async () => {
    const page = await openAt(viewport);
    // the overlay shows before the first reconstruction, over the panels
    // (its screenshots are the WebGPU test's: on the CPU backend the
    // reconstruction holds the page's thread, and the screenshot waits)
    await page.waitForSelector('[data-testid=recon-busy]', { state: 'visible', timeout: FIRST_RECON_MS });
    await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: FIRST_RECON_MS });
    await page.waitForSelector('[data-testid=recon-busy]', { state: 'detached', timeout: RECON_MS });
    const log = await page.evaluate(() => window.__busy);
    const firstDraw = (await page.evaluate(() => window.__seqAt)).find((s) => s.seq >= 1).t;
    assert.ok(log.some((e) => e.shown && e.t < firstDraw), 'the overlay was up before the first reconstruction');
    assert.equal(await page.$eval('.panels', (el) => el.dataset.busy), 'false');

    // the slider's value is the readout's (the thumb is drawn from it)
    assert.equal(await page.$eval('#mask-ratio', (el) => el.value), '0.75');
    assert.equal((await page.textContent('[data-testid=mask-ratio-text]')).trim(), '0.75');

    // a new ratio: the overlay comes and goes, and lets the pointer through
    const n = await seq(page);
    const mark = await page.evaluate(() => performance.now());
    await page.locator('[data-testid=mask-ratio]').fill('0.6');
    await page.waitForSelector('[data-testid=recon-busy]', { state: 'attached', timeout: RECON_MS }).catch(() => {});
    const pe = await page.$eval('[data-testid=recon-busy]', (el) => getComputedStyle(el).pointerEvents).catch(() => 'gone');
    await nextRecon(page, n);
    await page.waitForSelector('[data-testid=recon-busy]', { state: 'detached', timeout: RECON_MS });
    const after = (await page.evaluate(() => window.__busy)).filter((e) => e.t > mark);
    assert.ok(after.some((e) => e.shown && /Reconstructing/.test(e.text)), `the overlay showed while reconstructing: ${JSON.stringify(after)}`);
    assert.ok(pe === 'none' || pe === 'gone', `the overlay lets clicks through (pointer-events ${pe})`);
    assert.equal(await page.$eval('#mask-ratio', (el) => el.value), '0.6');

    // baselines of the same mask, the unit, and the interpolation's cost
    await baselineReady(page, n + 1);
    const b = await page.$eval('[data-testid=recon-baseline]', (el) => ({ ...el.dataset, text: el.textContent }));
    const mse = Number(await page.textContent('[data-testid=recon-mse]'));
    const mean = Number(b.mean), idw = Number(b.idw);
    console.log(`# ${name}: ratio 0.6 MSE ${mse} mean-fill ${mean} IDW ${idw}, IDW ${b.idwMs} ms in the page; beats ${b.beats}`);
    assert.ok(mean > 0 && idw > 0 && Number.isFinite(mse), 'finite baselines');
    assert.ok(idw < mean, `interpolation (${idw}) beats the mean fill (${mean}) on a photo`);
    assert.ok(b.text.includes(mean.toFixed(4)) && b.text.includes(idw.toFixed(4)), b.text);
    const unit = await page.textContent('[data-testid=recon-unit]');
    assert.match(unit, /^Unit: normalised pixels .*ImageNet's mean colour everywhere .*about 1\.0/);
    await shotCard(page, `recon-baselines-${name}`);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test(`the page stays responsive while the baselines compute (${name})`, async () => {
    const page = await openAt(viewport);
    await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: FIRST_RECON_MS });
    await baselineReady(page, 1);
    // a 4-ms interval: its gaps are how long the page could not answer
    await page.evaluate(() => {
      window.__ticks = [];
      let last = performance.now();
      window.__tick = setInterval(() => { const now = performance.now(); window.__ticks.push([last, now]); last = now; }, 4);
    });
    const n = await seq(page);
    await page.locator('[data-testid=mask-ratio]').fill('0.8');
    await nextRecon(page, n);
    await baselineReady(page, n + 1);
    const { gaps, window: span } = await page.evaluate((seqAfter) => {
      clearInterval(window.__tick);
      const drawn = window.__seqAt.find((s) => s.seq > seqAfter).t;
      const ready = performance.now();
      const gaps = window.__ticks.filter(([a]) => a >= drawn).map(([a, b]) => b - a);
      return { gaps, window: ready - drawn };
    }, n);
    const worst = Math.max(...gaps);
    const ms = Number(await page.getAttribute('[data-testid=recon-baseline]', 'data-idw-ms'));
    console.log(`# ${name}: baselines ready ${span.toFixed(0)} ms after the panels; IDW ${ms} ms; longest pause of the page meanwhile ${worst.toFixed(1)} ms over ${gaps.length} ticks`);
    assert.ok(gaps.length > 0, 'the page ran timers while the baselines computed');
    // Without yielding, the interpolation would be one pause as long as
    // itself; with it the page answers many times meanwhile. Compared within
    // this run, so a loaded machine stretches both sides alike.
    assert.ok(worst < ms / 2, `the page paused ${worst.toFixed(1)} ms at once during a ${ms} ms interpolation: it does not yield`);
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test(`error map (${name})`, async () => {
    const page = await openAt(viewport);
    await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: FIRST_RECON_MS });
    assert.equal(await page.locator('[data-testid=canvas-error]').count(), 0, 'no error map until asked for');
    await page.check('[data-testid=error-map]');
    await page.waitForSelector('[data-testid=canvas-error][data-ready=true]', { timeout: RECON_MS });
    const info = await page.$eval('[data-testid=canvas-error]', (c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
      const L = Number(document.querySelector('[data-testid=canvas-masked]').dataset.patches);
      const g = Math.round(Math.sqrt(L)), p = c.width / g;
      const masked = document.querySelector('[data-testid=canvas-masked]').dataset.maskedList.split(',').map(Number);
      let framed = 0, framedVisible = 0;
      for (let i = 0; i < L; i++) {
        const o = 4 * ((Math.floor(i / g) * p) * c.width + (i % g) * p);
        if (d[o] === 255 && d[o + 1] === 255 && d[o + 2] === 255) { framed++; if (!masked.includes(i)) framedVisible++; }
      }
      const colours = new Set();
      for (let i = 0; i < d.length; i += 4) colours.add((d[i] << 16) | (d[i + 1] << 8) | d[i + 2]);
      return { w: c.width, framed, framedVisible, colours: colours.size, ...c.dataset };
    });
    console.log(`# ${name}: error map ${info.w} px, ${info.beats} of ${info.masked} masked patches beat interpolation, scale max ${info.max}`);
    assert.equal(info.framed, Number(info.beats), 'one white frame per patch where the model beats interpolation');
    assert.equal(info.framedVisible, 0, 'visible patches are never framed');
    assert.ok(Number(info.beats) <= Number(info.masked));
    assert.ok(info.colours > 20, `a heat map, not a flat image (${info.colours} colours)`);
    const g3 = Number(info.max).toPrecision(3);
    assert.equal(await page.textContent('[data-testid=error-max]'), g3.includes('.') ? g3.replace(/\.?0+$/, '') : g3, 'the legend tops at the largest error');
    assert.match(await page.textContent('[data-testid=error-legend]'), new RegExp(`${info.beats} of ${info.masked} masked patches where the model beats interpolation`));
    await page.locator('[data-testid=canvas-error]').scrollIntoViewIfNeeded();
    await shotCard(page, `recon-error-map-${name}`);
    // it follows a new mask
    const n = await seq(page);
    await page.click('[data-testid=mask-reroll]');
    await nextRecon(page, n);
    await page.waitForFunction((k) => {
      const c = document.querySelector('[data-testid=canvas-error]');
      return c?.dataset.ready === 'true' && Number(c.dataset.seq) > k;
    }, n, { timeout: RECON_MS });
    await page.uncheck('[data-testid=error-map]');
    // go-app renders the change event asynchronously
    await page.waitForSelector('[data-testid=canvas-error]', { state: 'detached', timeout: RECON_MS });
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test(`save the four panels as one PNG (${name})`, async () => {
    const page = await openAt(viewport);
    await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: FIRST_RECON_MS });
    await page.waitForSelector('[data-testid=save-panels]:not([disabled])', { timeout: RECON_MS });
    const mse = (await page.textContent('[data-testid=recon-mse]')).trim();
    const rect = await page.$eval('[data-testid=canvas-original]', (c) => { const r = c.getBoundingClientRect(); return { w: Math.round(r.width), h: Math.round(r.height) }; });
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: RECON_MS }), page.click('[data-testid=save-panels]')]);
    assert.equal(dl.suggestedFilename(), `webmae-chelsea-ratio0.75-mse${mse}.png`);
    const png = readFileSync(await dl.path());
    assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'PNG signature');
    assert.equal(png.toString('latin1', 12, 16), 'IHDR');
    const w = png.readUInt32BE(16), h = png.readUInt32BE(20);
    console.log(`# ${name}: ${dl.suggestedFilename()} ${w}x${h}, ${png.length} bytes (panels ${rect.w}x${rect.h})`);
    assert.deepEqual([w, h], [4 * rect.w + 3 * 8, rect.h], 'four panels at display size with 8-px gaps');
    assert.deepEqual(page.errors, []);
    await page.close();
  });

  test(`keyboard on the masked view (${name})`, async () => {
    const page = await openAt(viewport);
    await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: FIRST_RECON_MS });
    const view = page.locator('[data-testid=canvas-masked]');
    assert.equal(await view.getAttribute('tabindex'), '0');
    assert.match(await view.getAttribute('aria-label'), /arrow keys move between patches, space or Enter masks or unmasks/);
    const L = Number(await view.getAttribute('data-patches'));
    const g = Math.round(Math.sqrt(L));
    // reach it with Tab from the re-roll button's side: shift-tab from the slider
    await page.focus('#mask-ratio');
    let hops = 0;
    while (!(await view.evaluate((el) => el === document.activeElement)) && hops++ < 12) await page.keyboard.press('Shift+Tab');
    assert.ok(await view.evaluate((el) => el === document.activeElement), 'the masked view is reachable with the keyboard');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction((want) => document.querySelector('[data-testid=canvas-masked]').dataset.focusPatch === String(want), g + 2);
    const ring = await page.locator('[data-testid=patch-focus]').boundingBox();
    const box = await view.boundingBox();
    assert.ok(ring, 'the focus ring is visible');
    assert.ok(Math.abs(ring.x - (box.x + 2 * box.width / g)) < 2 && Math.abs(ring.y - (box.y + box.height / g)) < 2,
      `the ring is on row 2, column 3 (${JSON.stringify(ring)} in ${JSON.stringify(box)})`);
    const list = async () => (await view.getAttribute('data-masked-list')).split(',').map(Number);
    const wasMasked = (await list()).includes(g + 2);
    const before = Number(await view.getAttribute('data-masked'));
    let n = await seq(page);
    await page.keyboard.press('Space');
    await nextRecon(page, n);
    assert.equal((await list()).includes(g + 2), !wasMasked, 'space toggled the focused patch');
    const now = Number(await view.getAttribute('data-masked'));
    assert.equal(Math.abs(now - before), 1);
    assert.equal(Number(await page.getAttribute('[data-testid=canvas-recon]', 'data-masked')), now, 'the reconstruction follows');
    // the readout keeps its width and the slider its value
    const readout = await page.$eval('[data-testid=mask-ratio-text]', (el) => ({ text: el.textContent, fits: el.scrollWidth <= el.clientWidth, w: el.getBoundingClientRect().width }));
    assert.match(readout.text, /^0\.\d{3} \(by hand\)$/);
    assert.ok(readout.fits, `"${readout.text}" fits its box`);
    const slider = await page.$eval('#mask-ratio', (el) => ({ v: Number(el.value), w: el.getBoundingClientRect().width }));
    assert.ok(Math.abs(slider.v - now / L) <= 0.005, `the slider (${slider.v}) is at the hand-made ratio ${now}/${L}`);
    assert.ok(slider.w >= 100, `the slider keeps ${slider.w.toFixed(0)} px`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling (overflow ${overflow}px)`);
    await shotCard(page, `recon-keyboard-${name}`);
    n = await seq(page);
    await page.keyboard.press('Enter');
    await nextRecon(page, n);
    assert.equal(Number(await view.getAttribute('data-masked')), before, 'Enter toggled it back');
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}

for (const [name, viewport] of sizes) {
  test(`the overlay shows the GPU pipelines compiling, k of n, and each reconstruction (WebGPU, ${name})`, async () => {
    const page = await openAt(viewport, '/');
    await page.waitForFunction(() => /Compiling GPU kernels: \d+ of \d+/.test(document.querySelector('[data-testid=recon-busy]')?.textContent || ''),
      null, { timeout: FIRST_RECON_MS, polling: 50 });
    await shotCard(page, `recon-busy-compiling-${name}`);
    await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: 2 * FIRST_RECON_MS });
    await page.waitForSelector('[data-testid=recon-busy]', { state: 'detached', timeout: RECON_MS });
    const log = await page.evaluate(() => window.__busy);
    const counts = log.map((e) => /(\d+) of (\d+)/.exec(e.text)).filter(Boolean).map((m) => [Number(m[1]), Number(m[2])]);
    console.log(`# ${name}: compile progress seen: ${counts.map(([k, n]) => `${k}/${n}`).join(' ')}`);
    assert.ok(counts.length >= 2 && counts.every(([k, n]) => k < n), 'several "k of n" steps, shown while unfinished');
    assert.ok(counts.every(([k], i) => i === 0 || k >= counts[i - 1][0]), 'k counts up');
    // on WebGPU the page's thread is free while the GPU works: the
    // overlay is on screen during a reconstruction, over the panels only
    const n = await seq(page);
    await page.locator('[data-testid=mask-ratio]').fill('0.5');
    await page.waitForSelector('[data-testid=recon-busy]', { state: 'visible', timeout: RECON_MS });
    await shotCard(page, `recon-busy-reconstructing-${name}`);
    const [busy, panels] = await Promise.all(['[data-testid=recon-busy]', '.panels'].map((sel) => page.locator(sel).boundingBox()));
    assert.deepEqual(busy, panels, 'the overlay covers the panels exactly');
    await nextRecon(page, n);
    await page.waitForSelector('[data-testid=recon-busy]', { state: 'detached', timeout: RECON_MS });
    assert.deepEqual(page.errors, []);
    await page.close();
  });
}
