#!/usr/bin/env node
// Does the page stay responsive while it reconstructs? Opens the demo in
// headless chromium, waits for the first reconstruction and for the page
// to settle, then asks for reconstructions the way a person does: mask
// re-rolls, and ratio changes through the slider (one per reconstruction).
// The main thread's long tasks (PerformanceObserver 'longtask': tasks over
// 50 ms, each a frame the page could not draw in time) are recorded; per
// reconstruction it prints the wall time and the longest task that
// overlapped it, then a summary line per mode. Modes: WebGPU (the default
// chromium flags), and the CPU fallback without WebGPU, in its Web Worker
// (`cpu-worker`) and computing in the page (`cpu-page`, ?worker=0).
//
//   node e2e/bench-responsive.mjs [--url http://host:port] [--recons 6] [--mode webgpu,cpu-worker,cpu-page]
//
// Without --url (or WEBMAE_URL) it serves the built site itself with
// bin/webmae serve -dir public: build it first (scripts/build-web.sh;
// go build -o bin/webmae .). Exits 1 when a mode fails.
import { chromium } from 'playwright-core';
import { chromiumOptions, observeLongTasks, settleLongTasks as settle, site } from './browser.mjs';

const args = process.argv.slice(2);
let url = '';
let recons = 6;
let modes = ['webgpu', 'cpu-worker', 'cpu-page'];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--url') url = args[++i];
  else if (a === '--recons') recons = Number(args[++i]);
  else if (a === '--mode') modes = args[++i].split(',');
  else { console.error(`bench-responsive: unknown argument ${a}`); process.exit(2); }
}
if (!(recons >= 2 && recons <= 50)) { console.error('bench-responsive: --recons must be 2..50'); process.exit(2); }
const known = { webgpu: '/', 'cpu-worker': '/', 'cpu-page': '/?worker=0' };
for (const m of modes) {
  if (!(m in known)) { console.error(`bench-responsive: unknown mode ${m} (want webgpu, cpu-worker, cpu-page)`); process.exit(2); }
}

const seq = (page) => page.getAttribute('[data-testid=canvas-recon]', 'data-seq').then(Number);
const nextRecon = (page, n) => page.waitForFunction(
  (n) => Number(document.querySelector('[data-testid=canvas-recon]').dataset.seq) > n, n, { timeout: 300_000, polling: 'raf' });

// one asks for one reconstruction with act and returns its wall time and
// the longest main-thread task that overlapped it.
async function one(page, act) {
  const n = await seq(page);
  const t0 = await page.evaluate(() => performance.now());
  await act();
  await nextRecon(page, n);
  const t1 = await page.evaluate(() => performance.now());
  const longest = await page.evaluate(([a, b]) => Math.max(0, ...window.webmaeLongTasks
    .filter((t) => t.start + t.ms > a && t.start < b).map((t) => t.ms)), [t0, t1]);
  return { ms: Math.round(t1 - t0), longest_task_ms: Math.round(longest) };
}

async function runMode(browser, mode) {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.addInitScript(observeLongTasks);
  await page.goto(url + known[mode]);
  await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: 300_000 });
  const backend = (await page.textContent('[data-testid=backend]')).trim();
  // One reconstruction first, not measured: the browser compiles the
  // page's wasm functions lazily, on first call.
  await one(page, () => page.click('[data-testid=mask-reroll]'));
  await settle(page);
  const ratios = ['0.6', '0.7', '0.8', '0.9', '0.5', '0.75'];
  const out = [];
  for (let i = 0; i < recons; i++) {
    const how = i % 2 === 0 ? 'reroll' : 'slider';
    const act = how === 'reroll'
      ? () => page.click('[data-testid=mask-reroll]')
      : () => page.locator('[data-testid=mask-ratio]').fill(ratios[(i >> 1) % ratios.length]);
    const r = { mode, how, ...await one(page, act) };
    console.log(JSON.stringify(r));
    out.push(r);
  }
  await page.close();
  if (errors.length) throw new Error(`${mode}: page errors: ${errors.join('; ')}`);
  return { mode, backend, out };
}

let code = 0;
let server;
try {
  server = await site(url);
  url = server.url;
  const summaries = [];
  for (const mode of modes) {
    const opts = mode === 'webgpu' ? chromiumOptions
      : { ...chromiumOptions, args: chromiumOptions.args.filter((a) => a !== '--enable-unsafe-webgpu') };
    const browser = await chromium.launch(opts);
    try {
      summaries.push(await runMode(browser, mode));
    } catch (e) {
      console.error(`bench-responsive: ${e.message.split('\n')[0]}`);
      code = 1;
    } finally {
      await browser.close();
    }
  }
  console.error('\nlongest main-thread task while a reconstruction runs (50 ms and over are long tasks; 0: none):');
  for (const s of summaries) {
    const ms = s.out.map((r) => r.ms);
    const long = s.out.map((r) => r.longest_task_ms);
    console.error(`  ${s.mode} (${s.backend}): reconstructions ${ms.join(', ')} ms; longest task ${Math.max(...long)} ms (${long.join(', ')}); over 100 ms: ${long.filter((v) => v > 100).length} of ${long.length}`);
  }
} catch (e) {
  console.error(`bench-responsive: ${e.message.split('\n')[0]}`);
  code = 1;
} finally {
  server?.stop();
}
process.exit(code);
