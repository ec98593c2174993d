// The MAE explorer (ui/explorer*.go) on WebGPU (SwiftShader) and on the
// CPU fallback, with the small `micro` model (?model=micro: freshly
// initialised, 32 px, patch 8: 16 patches) so that SwiftShader stays fast:
// attention maps of a clicked patch per layer, head and rollout; the
// masking sweep chart; the complete reconstruction; the embeddings with
// their downloads; the pipeline stages; and the settings in the URL,
// which reproduce the same mask when opened. Screenshots of every view at
// 1280x800 and 390x844.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { launch, open, ready, seq, nextRecon, shot, text, artifacts } from '../lib.mjs';

const VIEW_MS = 60_000;

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const attr = (page, id, name) => page.getAttribute(`[data-testid=${id}]`, name);
const waitAttr = (page, id, name, pred, arg) => page.waitForFunction(([id, name, src, arg]) => {
  const v = document.querySelector(`[data-testid=${id}]`)?.getAttribute(name);
  return v != null && new Function('v', 'arg', `return (${src})(v, arg)`)(v, arg);
}, [id, name, pred.toString(), arg], { timeout: VIEW_MS });

// colours counts the distinct colours of a canvas.
const colours = (page, id) => page.$eval(`[data-testid=${id}]`, (c) => {
  if (!c.width || !c.height) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  return new Set(Array.from({ length: d.length / 4 }, (_, i) => d[4 * i] * 65536 + d[4 * i + 1] * 256 + d[4 * i + 2])).size;
});

// clickPatch clicks patch i of the masked view.
async function clickPatch(page, i) {
  const g = Math.round(Math.sqrt(Number(await page.getAttribute('[data-testid=canvas-masked]', 'data-patches'))));
  const box = await page.locator('[data-testid=canvas-masked]').boundingBox();
  await page.click('[data-testid=canvas-masked]', { position: { x: ((i % g) + 0.5) * box.width / g, y: (Math.floor(i / g) + 0.5) * box.height / g } });
}

for (const [name, path] of [['webgpu', '/?model=micro'], ['cpu', '/?backend=cpu&model=micro']]) {
  test(`explorer on ${name}`, async () => {
    const page = await open(browser);
    await ready(page, path);
    const backend = await text(page, 'backend');
    assert.match(backend, name === 'cpu' ? /^CPU backend/ : /^WebGPU backend/);
    const masked = page.locator('[data-testid=canvas-masked]');
    assert.equal(await masked.getAttribute('data-patches'), '16');
    const list = (await masked.getAttribute('data-masked-list')).split(',').map(Number);
    assert.equal(list.length, Number(await masked.getAttribute('data-masked')), 'data-masked-list lists every removed patch');

    // Attention: the first removed patch is the query; a click picks another.
    await page.check('[data-testid=explore-attention]');
    await waitAttr(page, 'canvas-attention', 'data-seq', (v) => Number(v) > 0);
    assert.equal(await attr(page, 'canvas-attention', 'data-query'), String(list[0]));
    assert.ok(await colours(page, 'canvas-attention') > 20, 'the attention map is drawn');
    const visible = [...Array(16).keys()].find((i) => !list.includes(i));
    let n = Number(await attr(page, 'canvas-attention', 'data-seq'));
    await clickPatch(page, visible);
    await waitAttr(page, 'canvas-attention', 'data-seq', (v, n) => Number(v) > n, n);
    assert.equal(await attr(page, 'canvas-attention', 'data-query'), String(visible));
    assert.equal(Number(await masked.getAttribute('data-masked')), list.length, 'a click in attention mode does not change the mask');
    const decoderMap = await page.$eval('[data-testid=canvas-attention]', (c) => c.toDataURL());
    for (const [sel, value] of [['attention-layer', 'enc-1'], ['attention-head', '2']]) {
      n = Number(await attr(page, 'canvas-attention', 'data-seq'));
      await page.selectOption(`[data-testid=${sel}]`, value);
      await waitAttr(page, 'canvas-attention', 'data-seq', (v, n) => Number(v) > n, n);
    }
    assert.match(await text(page, 'attention-note'), new RegExp(`^Patch ${visible}, visible: where the encoder looked, layer 2, head 2\\.`));
    assert.notEqual(await page.$eval('[data-testid=canvas-attention]', (c) => c.toDataURL()), decoderMap, 'the encoder map differs from the decoder map');
    n = Number(await attr(page, 'canvas-attention', 'data-seq'));
    await page.check('[data-testid=attention-rollout]');
    await waitAttr(page, 'canvas-attention', 'data-seq', (v, n) => Number(v) > n, n);
    assert.match(await text(page, 'attention-note'), /rollout through layer 2/);

    // Masking sweep: 5 ratios x 2 mask kinds x 3 predictors.
    await page.click('[data-testid=sweep-start]');
    await waitAttr(page, 'sweep-chart', 'data-points', (v) => Number(v) === 30);

    // Complete reconstruction: every patch predicted once.
    await page.click('[data-testid=complete-recon]');
    await waitAttr(page, 'canvas-complete', 'data-seq', (v) => Number(v) > 0);
    assert.match(await text(page, 'complete-mse'), /^\d+\.\d{4}$/);
    assert.equal(await attr(page, 'canvas-complete', 'data-passes'), '4', 'ratio 0.75: four passes');
    assert.ok(await colours(page, 'canvas-complete') > 20);

    // Embeddings of two loaded images, the current one first (similarity 1).
    const second = (await page.$$eval('.gallery .thumb', (b) => b.map((x) => x.dataset.key)))[1];
    await page.click(`[data-testid=${second}]`);
    await waitAttr(page, second, 'aria-pressed', (v) => v === 'true');
    await page.click('[data-testid=embedding-compute]');
    await waitAttr(page, 'embedding-rank', 'data-count', (v) => Number(v) >= 2);
    assert.match(await page.textContent('[data-testid=embedding-rank] li:first-child'), /mean-pooled 1\.000 · CLS 1\.000/);
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=embedding-download]')]);
    assert.equal(json.suggestedFilename(), 'embeddings.json');
    const doc = JSON.parse(await readFile(await json.path(), 'utf8'));
    assert.equal(doc.images.length, 2);
    assert.equal(doc.dim, 64);
    assert.equal(doc.images[0].mean.length, 64);
    const [npy] = await Promise.all([page.waitForEvent('download'), page.click('[data-testid=embedding-download-npy]')]);
    const bytes = await readFile(await npy.path());
    assert.equal(bytes.subarray(0, 6).toString('latin1'), '\x93NUMPY');
    assert.match(bytes.toString('latin1', 10, 10 + bytes.readUInt16LE(8)), /'shape': \(2, 2, 64\)/);

    // The pipeline, step by step: every stage drawn.
    await page.click('[data-testid=pipeline-toggle]');
    await waitAttr(page, 'stages', 'data-seq', (v) => Number(v) > 0);
    const stages = await page.$$eval('[data-testid^=stage-]:is(canvas)', (cs) => cs.map((c) => c.dataset.testid));
    assert.ok(stages.length >= 6, `${stages.length} stages`);
    for (const id of stages) assert.ok(await colours(page, id) > 3, `${id} is drawn`);

    // Each view on its own, then the whole page, at both sizes.
    const views = async (size) => {
      const parts = await page.locator('.explorer .explore-view, .explorer .pipeline').all();
      for (const [i, part] of parts.entries()) {
        await part.screenshot({ path: join(artifacts, `explorer-${name}-${size}-view${i + 1}.png`) });
      }
      await shot(page, `explorer-${name}-${size}`);
    };
    await views('1280x800');
    await page.setViewportSize({ width: 390, height: 844 });
    await page.waitForTimeout(300);
    const overflow = await page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth);
    assert.ok(overflow <= 0, `no horizontal scrolling at 390 px (overflow ${overflow}px)`);
    await views('390x844');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('settings in the URL reproduce the mask', async () => {
  const page = await open(browser);
  await ready(page, '/?backend=cpu&model=micro');
  let n = await seq(page);
  await page.locator('[data-testid=mask-ratio]').fill('0.5');
  await nextRecon(page, n);
  n = await seq(page);
  await page.check('[data-testid=mask-block]');
  await nextRecon(page, n);
  n = await seq(page);
  await page.click('[data-testid=mask-reroll]');
  await nextRecon(page, n);
  const url = new URL(page.url());
  assert.equal(url.searchParams.get('backend'), 'cpu', 'other parameters stay');
  const view = new URLSearchParams(url.hash.slice(1)); // the view settings live in the fragment
  assert.equal(view.get('model'), 'micro');
  assert.equal(view.get('ratio'), '0.5');
  assert.equal(view.get('block'), '1');
  const want = await page.getAttribute('[data-testid=canvas-masked]', 'data-masked-list');

  const other = await open(browser);
  await ready(other, url.pathname + url.search + url.hash);
  assert.equal(await other.getAttribute('[data-testid=canvas-masked]', 'data-masked-list'), want, 'the link gives the same mask');
  assert.equal(await other.getAttribute('[data-testid=canvas-masked]', 'data-masked'), '8');

  // a hand-drawn mask travels too
  n = await seq(other);
  await clickPatch(other, 0);
  await nextRecon(other, n);
  const hand = await other.getAttribute('[data-testid=canvas-masked]', 'data-masked-list');
  assert.notEqual(hand, want);
  const handURL = new URL(other.url());
  assert.match(new URLSearchParams(handURL.hash.slice(1)).get('mask'), /^16:[0-9a-f]{4}$/);
  const third = await open(browser);
  await ready(third, handURL.pathname + handURL.search + handURL.hash);
  assert.equal(await third.getAttribute('[data-testid=canvas-masked]', 'data-masked-list'), hand);
  await shot(third, 'explorer-link-1280x800');
  for (const p of [page, other, third]) assert.deepEqual(p.errors, []);
  await page.context().close();
  await other.context().close();
  await third.context().close();
});

test('explorer with the bundled trained model (CPU)', async () => {
  const page = await open(browser);
  await ready(page, '/?backend=cpu');
  const masked = page.locator('[data-testid=canvas-masked]');
  assert.equal(await masked.getAttribute('data-patches'), '196', 'the default model: 224 px, patch 16');
  await page.check('[data-testid=explore-attention]');
  await waitAttr(page, 'canvas-attention', 'data-seq', (v) => Number(v) > 0);
  assert.match(await text(page, 'attention-note'), /^Patch \d+, masked \(a mask token in the decoder\): where the decoder looked, layer 2, mean of the heads\./);
  await page.click('[data-testid=complete-recon]');
  await waitAttr(page, 'canvas-complete', 'data-seq', (v) => Number(v) > 0);
  // A trained model fills in every patch far better than noise: the MSE
  // over every patch is below the image's own variance (about 1 in
  // normalised pixels).
  const mse = Number(await text(page, 'complete-mse'));
  assert.ok(mse > 0 && mse < 1, `complete-reconstruction MSE ${mse}`);
  await page.click('[data-testid=pipeline-toggle]');
  await waitAttr(page, 'stages', 'data-seq', (v) => Number(v) > 0);
  await shot(page, 'explorer-default-1280x800');
  await page.locator('.explorer').screenshot({ path: join(artifacts, 'explorer-default-card-1280x800.png') });
  assert.deepEqual(page.errors, []);
  await page.context().close();
});
