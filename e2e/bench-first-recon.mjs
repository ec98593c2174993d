#!/usr/bin/env node
// Time to the first reconstruction: opens the demo ('/') in headless
// chromium (WebGPU; SwiftShader on a machine without a GPU) and measures,
// from the navigation's start, when the first reconstruction is drawn:
// the first animation frame after the page's `webmae:first-recon` User
// Timing mark (set once the four panels' pixels are written to their
// canvases), and, as a second figure, when the test saw it (the recon
// canvas's data-seq leaves 0, after the next render and Playwright's
// polling and round trip: 0.1-0.5 s later here). The first load is cold (nothing
// cached); the following loads reuse the browser profile, so app.wasm
// comes from the HTTP cache / service worker ("wasm cached"). Prints one
// JSON line per load and a summary. With several --path options the
// cached loads alternate between them (e.g. --path / --path
// '/?precompile=0' compares compiling the pipelines up front in parallel
// with compiling each on first use, in one run).
//
//   node e2e/bench-first-recon.mjs [--url http://host:port] [--loads 3] [--path / ...] [--timeout 300]
//
// Without --url (or WEBMAE_URL) it serves the built site itself with
// bin/webmae serve -dir public: build it first (scripts/build-web.sh;
// go build -o bin/webmae .). Exits 1 when a load fails or times out.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumOptions, site } from './browser.mjs';

const args = process.argv.slice(2);
let url = '';
let loads = 3;
const paths = [];
let timeoutS = 300;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--url') url = args[++i];
  else if (a === '--loads') loads = Number(args[++i]);
  else if (a === '--path') paths.push(args[++i]);
  else if (a === '--timeout') timeoutS = Number(args[++i]);
  else { console.error(`bench-first-recon: unknown argument ${a}`); process.exit(2); }
}
if (!paths.length) paths.push('/');
if (!(loads >= 1 && loads <= 20)) { console.error('bench-first-recon: --loads must be 1..20'); process.exit(2); }

// measure loads the page once and returns the milestones (ms since the
// navigation started): the wasm instantiated (Go's first console line is
// not reliable, so the page's own marks are read when present) and the
// first reconstruction drawn.
async function measure(page, target) {
  // the first frame that starts after the panels are drawn
  await page.addInitScript(() => {
    const frame = (now) => {
      if (performance.getEntriesByName('webmae:first-recon').length) window.__firstFrame = now;
      else requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  });
  await page.goto(target, { waitUntil: 'commit' });
  const drawn = await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: timeoutS * 1000 })
    .then(() => true, () => false);
  const r = await page.evaluate(() => {
    const marks = {};
    for (const e of performance.getEntriesByType('mark')) {
      if (e.name.startsWith('webmae:')) marks[e.name.slice(7)] = Math.round(e.startTime);
    }
    const shown = window.__firstFrame === undefined ? undefined : Math.round(window.__firstFrame);
    return { first_recon_ms: shown ?? Math.round(performance.now()), observed_ms: Math.round(performance.now()), marks };
  });
  if (!drawn) {
    r.errors = [`no reconstruction within ${timeoutS} s`];
    r.loading = await page.textContent('[data-testid=loading]').catch(() => '');
  }
  return r;
}

let code = 1;
let context;
let server;
const profile = mkdtempSync(join(tmpdir(), 'webmae-first-recon-'));
try {
  server = await site(url);
  url = server.url;
  context = await chromium.launchPersistentContext(profile, chromiumOptions);
  const results = [];
  const load = async (path, kind) => {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const r = { path, load: kind, ...await measure(page, url + path) };
    r.backend = await page.textContent('[data-testid=backend]').catch(() => '');
    if (errors.length) r.errors = errors;
    console.log(JSON.stringify(r));
    results.push(r);
    await page.close();
  };
  await load(paths[0], 'cold');
  for (let i = 1; i < loads; i++) {
    for (const path of paths) await load(path, 'cached');
  }
  const median = (v) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
  console.error(`\nfirst reconstruction on screen (the first frame after the panels are drawn), ms since navigation (cold ${paths[0]}: ${results[0].first_recon_ms}; seen by the test ${results[0].observed_ms}):`);
  for (const path of paths) {
    const cached = results.filter((r) => r.load === 'cached' && r.path === path);
    const c = cached.map((r) => r.first_recon_ms);
    const o = cached.map((r) => r.observed_ms);
    if (c.length) console.error(`  ${path} cached: median ${median([...c])} of ${c.join(', ')}; seen by the test: median ${median([...o])} of ${o.join(', ')}`);
  }
  code = results.some((r) => r.errors) ? 1 : 0;
} catch (e) {
  console.error(`bench-first-recon: ${e.message.split('\n')[0]}`);
} finally {
  await context?.close();
  server?.stop();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(code);
