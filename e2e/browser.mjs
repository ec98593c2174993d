// How every browser script starts its pieces: chromium with the flags of
// DESIGN.md (WebGPU on SwiftShader, nothing else reaching out), and, for
// the standalone benchmarks, the built site served by bin/webmae.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

// chromiumOptions are the launch options of chromium.launch and
// chromium.launchPersistentContext (CHROMIUM overrides the executable).
export const chromiumOptions = {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: [
    '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run',
  ],
};

// site returns the URL to open: url when given (--url), else WEBMAE_URL,
// else the site under public/ served by bin/webmae serve on a free port
// (build both first: scripts/build-web.sh; go build -o bin/webmae .).
// stop ends the server it started, if any.
export async function site(url) {
  url = url || process.env.WEBMAE_URL || '';
  if (url) return { url, stop() {} };
  const server = spawn(join(root, 'bin/webmae'), ['serve', '-addr', '127.0.0.1:0', '-dir', join(root, 'public')],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const served = await new Promise((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/^serving (http:\S+)/m);
      if (m) resolve(m[1]);
    });
    server.on('error', (e) => reject(new Error(`bin/webmae serve: ${e.message}: build the site and binary first`)));
    server.on('exit', (code) => reject(new Error(`bin/webmae serve exited (${code}): build the site and binary first`)));
  });
  return { url: served, stop() { server.kill(); } };
}

// observeLongTasks, given to page.addInitScript, records the main thread's
// long tasks (PerformanceObserver 'longtask': 50 ms and over) from the
// page's start in window.webmaeLongTasks as {start, ms}.
export const observeLongTasks = () => {
  window.webmaeLongTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.webmaeLongTasks.push({ start: e.startTime, ms: e.duration });
  }).observe({ type: 'longtask', buffered: true });
};

// settleLongTasks waits until a page observed with observeLongTasks has had
// no long task for 2 s (after start-up: the service worker caching the
// site, the first renders), at most 60 s.
export const settleLongTasks = (page) => page.waitForFunction(() => {
  const last = window.webmaeLongTasks.reduce((m, t) => Math.max(m, t.start + t.ms), 0);
  return performance.now() - last > 2000;
}, null, { timeout: 60_000, polling: 250 });
