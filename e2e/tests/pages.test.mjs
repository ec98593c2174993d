// /selftest and /bench for everyone: the static website (`webmae static`)
// on a strict static server (no .html fallback, e2e/static-site.mjs),
// built without TensorFlow.js as when e2e's npm packages are not
// installed; on the desktop (1280x800) and the phone (390x844): a summary
// table that fits the screen, the JSON behind "details", the demo's footer
// links, both pages offline after one visit, and offline across an update.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, open, shot, artifacts, baseURL, FIRST_RECON_MS } from '../lib.mjs';
import { buildStaticSite, serveStatic, removeStaticSite } from '../static-site.mjs';

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
// Pipelines compile in ~25 s on SwiftShader, the twelve reference cases
// take ~3 s each; more on a loaded machine.
const SELFTEST_MS = 300_000;
const BENCH_MS = 180_000;
// The smallest bench run: one 64x64x64 matmul, the fewest repetitions.
const BENCH_TINY = '/bench/?only=matmul&sizes=64&mintime=0';
const SELFTEST_CPU = '/selftest/?backends=cpu';

let browser, dir, site;
before(async () => {
  browser = await launch();
  dir = buildStaticSite({ tfjs: false });
  site = await serveStatic(dir);
});
after(async () => {
  await site?.close();
  await browser?.close();
  if (dir) removeStaticSite(dir);
});

async function selftest(page, url, path) {
  await page.goto(url + path);
  const sel = '[data-testid=selftest-result]:not([data-status=running])';
  await page.waitForSelector(sel, { state: 'attached', timeout: SELFTEST_MS });
  return JSON.parse(await page.textContent(sel));
}

async function bench(page, url, path) {
  await page.goto(url + path);
  await page.waitForSelector('[data-testid=bench-lines]:not([data-status=running])', { state: 'attached', timeout: BENCH_MS });
  return page.getAttribute('[data-testid=bench-lines]', 'data-status');
}

// fitsWidth checks that the page does not scroll sideways and the summary
// table lies within the viewport.
async function fitsWidth(page, summary) {
  const { width } = page.viewportSize();
  const m = await page.evaluate((sel) => {
    const box = document.querySelector(sel).getBoundingClientRect();
    return { scroll: document.documentElement.scrollWidth, left: box.left, right: box.right };
  }, `[data-testid=${summary}]`);
  assert.ok(m.scroll <= width, `the page is ${m.scroll} px wide in a ${width}-px viewport`);
  assert.ok(m.left >= 0 && m.right <= width, `the summary spans ${m.left}-${m.right} px in a ${width}-px viewport`);
  assert.ok(await page.isVisible(`[data-testid=${summary}]`), `${summary} is visible`);
}

// The raw JSON is behind "details": hidden until it is opened.
async function openDetails(page, raw) {
  assert.equal(await page.isVisible(`[data-testid=${raw}]`), false, `${raw} is hidden at first`);
  await page.click('details.raw > summary');
  assert.ok(await page.isVisible(`[data-testid=${raw}]`), `${raw} shows after a click on "details"`);
}

test('/selftest (without its slash) passes on a strict static server, desktop', { timeout: SELFTEST_MS + 60_000 }, async () => {
  const page = await open(browser, { viewport: DESKTOP });
  const r = await selftest(page, site.url, '/selftest');
  assert.equal(new URL(page.url()).pathname, '/selftest/', 'the static host redirects to the directory');
  for (const c of r.cases) console.log(`${c.ok ? 'pass' : 'FAIL'} ${c.backend} ${c.name} (${c.ms.toFixed(0)} ms)${c.error ? ': ' + c.error : ''}`);
  assert.equal(r.status, 'pass', r.error);
  assert.equal(r.cases.length, 18, 'six reference cases on WebGPU (with and without subgroups) and on the CPU');
  assert.equal(await page.locator('[data-testid=selftest-case][data-ok=true]').count(), 18, 'a passing row per case');
  assert.match(await page.textContent('[data-testid=selftest-status]'), /^Pass: all 18 checks agree with PyTorch/);
  await fitsWidth(page, 'selftest-summary');
  await shot(page, 'pages-selftest-desktop');
  await openDetails(page, 'selftest-result');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('/selftest on the phone: the summary and the JSON wrap to 390 px', { timeout: SELFTEST_MS + 60_000 }, async () => {
  const page = await open(browser, { viewport: PHONE });
  const r = await selftest(page, site.url, SELFTEST_CPU);
  assert.equal(r.status, 'pass', r.error);
  assert.equal(await page.locator('[data-testid=selftest-case][data-ok=true]').count(), 6);
  await fitsWidth(page, 'selftest-summary');
  await shot(page, 'pages-selftest-phone');
  await openDetails(page, 'selftest-result');
  await fitsWidth(page, 'selftest-summary');
  await shot(page, 'pages-selftest-phone-details');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

for (const [name, viewport] of [['desktop', DESKTOP], ['phone', PHONE]]) {
  test(`/bench without TensorFlow.js measures webmae alone, ${name}`, { timeout: BENCH_MS + 60_000 }, async () => {
    const page = await open(browser, { viewport });
    const requested = [];
    page.on('request', (req) => requested.push(new URL(req.url()).pathname));
    assert.equal(await bench(page, site.url, BENCH_TINY), 'done', await page.textContent('.banner.error').catch(() => ''));
    assert.match(await page.textContent('[data-testid=bench-note]'), /measures webmae alone/);
    const rows = await page.locator('[data-testid=bench-summary] tbody tr').allTextContents();
    console.log(rows.join('\n'));
    assert.ok(rows.some((r) => /matmul 64x64x64/.test(r) && /GFLOP\/s/.test(r)), 'the matmul row with its unit');
    assert.ok(rows.some((r) => /pipelines all kernels/.test(r) && /\d ms/.test(r)), 'the pipeline compilation in ms');
    assert.deepEqual(requested.filter((p) => p.startsWith('/web/vendor/')), [], 'TensorFlow.js is not requested');
    await fitsWidth(page, 'bench-summary');
    await shot(page, `pages-bench-${name}`);
    await openDetails(page, 'bench-lines');
    await fitsWidth(page, 'bench-summary');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });

  test(`the demo's footer links open the pages, ${name}`, { timeout: FIRST_RECON_MS + 120_000 }, async () => {
    const page = await open(browser, { viewport });
    await page.goto(site.url + '/?backend=cpu');
    await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: FIRST_RECON_MS });
    await page.locator('footer.foot').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(artifacts, `pages-footer-${name}.png`) }); // the viewport, at the footer
    for (const [link, path, summary] of [['link-selftest', '/selftest/', 'selftest-summary'], ['link-bench', '/bench/', 'bench-summary']]) {
      assert.equal(await page.getAttribute(`[data-testid=${link}]`, 'href'), path);
      await page.click(`[data-testid=${link}]`);
      await page.waitForSelector(`[data-testid=${summary}]`, { state: 'attached', timeout: 30_000 });
      assert.equal(new URL(page.url()).pathname, path);
      assert.match(await page.textContent('h1'), link === 'link-selftest' ? /self-test/ : /benchmark/);
      // go-app follows the link without loading the document; the page
      // then reloads itself, so the demo's work stops and the page starts
      // fresh: the document is now the one loaded at the page's URL.
      await page.waitForFunction((p) => new URL(performance.getEntriesByType('navigation')[0].name).pathname === p,
        path, { timeout: 60_000 });
      await page.waitForSelector(`[data-testid=${summary}]`, { state: 'attached', timeout: 60_000 });
      await page.goBack();
      await page.waitForSelector(`[data-testid=${link}]`, { timeout: 30_000 });
    }
    await page.context().close();
  });
}

test('/bench with TensorFlow.js (webmae serve) compares and shows the ratio', { timeout: BENCH_MS + 60_000 }, async (t) => {
  if (!existsSync(join(process.env.WEBMAE_SITE || 'public', 'web/vendor/tf.min.js'))) {
    t.skip('TensorFlow.js is not in the site (e2e\'s npm packages are not installed)');
    return;
  }
  const page = await open(browser, { viewport: DESKTOP });
  assert.equal(await bench(page, baseURL, BENCH_TINY), 'done', await page.textContent('.banner.error').catch(() => ''));
  const rows = await page.locator('[data-testid=bench-summary] tbody tr').allTextContents();
  console.log(rows.join('\n'));
  assert.ok(rows.some((r) => /matmul 64x64x64/.test(r) && /tfjs/.test(r) && /GFLOP\/s/.test(r)), 'TensorFlow.js\'s matmul row');
  assert.ok(rows.some((r) => /webmae vs TensorFlow\.js/.test(r) && /\d\.\d\dx/.test(r)), 'the ratio row');
  assert.equal(await page.locator('[data-testid=bench-note]').count(), 0, 'no note: the comparison ran');
  const tfjs = ['/web/vendor/tf.min.js', '/web/vendor/tf-backend-webgpu.min.js'];
  assert.ok(await cachedPaths(page, ['/bench/', ...tfjs]), 'the service worker kept TensorFlow.js for offline use');
  await shot(page, 'pages-bench-tfjs-desktop');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// /bench?only=cpu loads TensorFlow.js's wasm backend: its script and the
// binary tfjs fetches by itself are kept too, as every file of
// web/vendor/ the page read.
test('/bench?only=cpu (webmae serve) keeps TensorFlow.js\'s wasm backend for offline use', { timeout: BENCH_MS + 60_000 }, async (t) => {
  if (!existsSync(join(process.env.WEBMAE_SITE || 'public', 'web/vendor/tf-backend-wasm.min.js'))) {
    t.skip('TensorFlow.js\'s wasm backend is not in the site (e2e\'s npm packages are not installed)');
    return;
  }
  const page = await open(browser, { viewport: DESKTOP });
  const vendor = [];
  page.on('request', (req) => {
    const p = new URL(req.url()).pathname;
    if (p.startsWith('/web/vendor/') && !vendor.includes(p)) vendor.push(p);
  });
  assert.equal(await bench(page, baseURL, '/bench/?only=cpu&mintime=0'), 'done', await page.textContent('.banner.error').catch(() => ''));
  assert.ok(vendor.includes('/web/vendor/tf-backend-wasm.min.js') && vendor.some((p) => p.endsWith('.wasm')),
    `the page read the wasm backend's script and binary: ${vendor}`);
  const cached = await cachedPaths(page, vendor);
  assert.ok(cached, `the service worker kept ${vendor}`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

// cachedPaths waits (up to 60 s) until one cache of the page's origin
// holds every path of want; it returns that cache's name and paths, or
// null.
async function cachedPaths(page, want) {
  return page.evaluate(async (want) => {
    await navigator.serviceWorker.ready;
    for (let i = 0; i < 600; i++) {
      for (const key of await caches.keys()) {
        const urls = (await (await caches.open(key)).keys()).map((r) => new URL(r.url).pathname);
        if (want.every((p) => urls.includes(p))) return { key, urls };
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  }, want);
}

test('both pages work offline after one visit', { timeout: SELFTEST_MS + BENCH_MS + 120_000 }, async () => {
  const own = await serveStatic(dir); // a server of its own, to take down
  const page = await open(browser, { viewport: PHONE });
  // The first visit: the service worker installs while the self-test
  // reads its references, then keeps the files the page read.
  const references = [];
  page.on('request', (req) => {
    const p = new URL(req.url()).pathname;
    if (p.startsWith('/web/reference/') && !references.includes(p)) references.push(p);
  });
  assert.equal((await selftest(page, own.url, SELFTEST_CPU)).status, 'pass');
  assert.equal(references.length, 14, `the self-test reads its 14 reference files: ${references}`);
  const cached = await cachedPaths(page, ['/', '/selftest/', '/bench/', '/web/app.wasm', ...references]);
  assert.ok(cached, 'the service worker cached the pages and every reference file the self-test read');
  console.log(`cache ${cached.key}: ${cached.urls.length} files`);
  await own.close();
  await page.context().setOffline(true);
  page.errors.length = 0;
  const r = await selftest(page, own.url, SELFTEST_CPU);
  assert.equal(r.status, 'pass', r.error);
  assert.equal(await bench(page, own.url, BENCH_TINY), 'done');
  assert.match(await page.textContent('[data-testid=bench-note]'), /measures webmae alone/);
  await shot(page, 'pages-bench-offline-phone');
  await page.goto(own.url + '/selftest'); // without the slash: the cached page answers
  await page.waitForSelector('[data-testid=selftest-summary]', { state: 'attached', timeout: 30_000 });
  // Offline, the only errors allowed are the failed service-worker update checks.
  const unexpected = page.errors.filter((e) => !/ServiceWorker|service worker|Failed to fetch|ERR_INTERNET_DISCONNECTED|Failed to load resource/i.test(e));
  assert.deepEqual(unexpected, []);
  await page.context().close();
});

// A new version of the site installs a new cache that again holds the
// reference files the old one kept (fetched anew), and deletes the old
// cache: the self-test stays offline across updates. The new version is
// the static site's service worker with another cache name.
test('an update keeps the files a page asked for', { timeout: 240_000 }, async () => {
  const own = await serveStatic(dir);
  const page = await open(browser, { viewport: DESKTOP });
  const refs = ['/web/reference/mae_tiny.safetensors', '/web/reference/tutorial_mae.io.safetensors'];
  await page.goto(own.url + SELFTEST_CPU);
  const before = await cachedPaths(page, refs);
  assert.ok(before, 'the first version kept the references');
  const kept = before.urls.filter((p) => p.startsWith('/web/reference/'));
  await page.goto(own.url + '/web/icon.svg'); // a page of the site that runs nothing
  const workerFile = join(dir, 'app-worker.js');
  const original = readFileSync(workerFile, 'utf8');
  const name = original.match(/const cacheName = "app-" \+ "([0-9a-f]+)";/);
  assert.ok(name, 'the service worker names its cache');
  try {
    writeFileSync(workerFile, original.replace(name[0], `const cacheName = "app-" + "${name[1]}next";`));
    const after = await page.evaluate(async (next) => {
      await (await navigator.serviceWorker.getRegistration('/')).update();
      for (let i = 0; i < 1200; i++) {
        const keys = await caches.keys();
        if (keys.length === 1 && keys[0] === next) {
          return { keys, urls: (await (await caches.open(next)).keys()).map((r) => new URL(r.url).pathname) };
        }
        await new Promise((r) => setTimeout(r, 100));
      }
      return { keys: await caches.keys(), urls: [] };
    }, `app-${name[1]}next`);
    assert.deepEqual(after.keys, [`app-${name[1]}next`], 'the new cache replaced the old one');
    assert.deepEqual(after.urls.filter((p) => p.startsWith('/web/reference/')).sort(), kept.sort(),
      'the new cache holds the reference files the old one kept');
    assert.ok(after.urls.includes('/web/app.wasm') && after.urls.includes('/selftest/'), 'and the install list');
  } finally {
    writeFileSync(workerFile, original);
  }
  await page.context().close();
  await own.close();
});
