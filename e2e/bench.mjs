#!/usr/bin/env node
// The browser benchmark: opens the app's /bench page in headless chromium
// (WebGPU; SwiftShader on a machine without a GPU) and prints the page's
// JSON lines as they come (our WebGPU engine, then TensorFlow.js 4.22 on
// the same adapter, then the ratios), and a summary of the ratios.
//
//   node e2e/bench.mjs [--url http://host:port] [--timeout 1200] [key=value ...]
//
// key=value pairs are the page's URL parameters (preset=micro|tiny|base,
// config=<HF config JSON>, batch, steps, mintime, sizes, only, tfjs=0,
// replay=0, subgroups=0; see ui/bench.go), given unencoded (config='{"image_size": 32, ...}'):
// the script encodes them. Without --url (or WEBMAE_URL) it serves the
// built site itself with bin/webmae serve -dir public: build it first
// (scripts/build-web.sh; go build -o bin/webmae .), with e2e's
// devDependencies installed so that TensorFlow.js is copied into it.
// Exits 1 when the page reports an error or does not finish in time.
import { chromium } from 'playwright-core';
import { chromiumOptions, site } from './browser.mjs';

const args = process.argv.slice(2);
let url = '';
let timeoutS = 1200;
const params = new URLSearchParams();
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--url') url = args[++i];
  else if (a === '--timeout') timeoutS = Number(args[++i]);
  else if (a.includes('=')) { const k = a.slice(0, a.indexOf('=')); params.set(k, a.slice(k.length + 1)); }
  else { console.error(`bench: unknown argument ${a}`); process.exit(2); }
}

let code = 1;
let browser;
let server;
try {
  server = await site(url);
  url = server.url;
  browser = await chromium.launch(chromiumOptions);
  const page = await browser.newPage();
  const lines = [];
  let failed = '';
  let finished;
  const done = new Promise((resolve) => { finished = resolve; });
  page.on('console', (m) => {
    const t = m.text();
    if (t.startsWith('webmae bench: error: ')) { failed = t.slice(21); finished(); return; }
    if (!t.startsWith('webmae bench: ')) return;
    const line = t.slice(14);
    lines.push(JSON.parse(line));
    console.log(line);
  });
  page.on('pageerror', (e) => { failed = `page exception: ${e.message}`; finished(); });
  const q = params.toString();
  const t0 = Date.now();
  await page.goto(`${url}/bench${q ? '?' + q : ''}`);
  const end = page.waitForSelector('[data-testid=bench-lines]:not([data-status=running])', { state: 'attached', timeout: timeoutS * 1000 })
    .then(finished, (e) => { failed = `no result within ${timeoutS} s: ${e.message.split('\n')[0]}`; finished(); });
  await done;
  await end;
  const status = await page.getAttribute('[data-testid=bench-lines]', 'data-status').catch(() => 'unknown');
  if (!failed && status !== 'done') failed = `page status ${status}`;
  const ratios = lines.filter((l) => l.name === 'ratio');
  const adapter = lines.find((l) => l.name === 'adapter');
  console.error(`\nbench: ${adapter ? adapter.backend : 'no adapter'}, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  for (const r of ratios) {
    const target = r.target ? ` (target ${r.target}x: ${r.met ? 'met' : 'missed'})` : '';
    console.error(`  ${r.measure}: ours ${r.ours.toFixed(3)} vs tfjs ${r.tfjs.toFixed(3)} ${r.unit}: ${r.speedup.toFixed(2)}x${target}`);
  }
  if (!ratios.length) console.error('  no TensorFlow.js comparison (see the "tfjs" line)');
  if (failed) console.error(`bench: FAILED: ${failed}`);
  else code = 0;
} catch (e) {
  console.error(`bench: ${e.message}`);
} finally {
  await browser?.close();
  server?.stop();
}
process.exit(code);
