// Shared helpers of the browser tests: one headless chromium per test
// file, a fresh context (storage, service worker) per test, console errors
// collected, screenshots saved under e2e/artifacts/.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromiumOptions } from './browser.mjs';

export const baseURL = process.env.WEBMAE_URL;
if (!baseURL) throw new Error('WEBMAE_URL is not set: run the tests through e2e/run.sh');

export const artifacts = join(dirname(fileURLToPath(import.meta.url)), 'artifacts');
mkdirSync(artifacts, { recursive: true });

// launch starts headless chromium with the flags of browser.mjs.
export async function launch() {
  return chromium.launch(chromiumOptions);
}

// Time budgets (ms) on the 2-core CI machine.
export const FIRST_RECON_MS = 60_000; // page load, wasm compile, model, first reconstruction
export const RECON_MS = 30_000;       // one more reconstruction

// open starts a page at 1280x800 (or the given viewport) and records
// console errors and uncaught exceptions in page.errors.
export async function open(browser, { viewport = { width: 1280, height: 800 }, context } = {}) {
  const ctx = context || await browser.newContext({ viewport, acceptDownloads: true });
  const page = await ctx.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => page.errors.push(`exception: ${e.message}`));
  return page;
}

// CPU is the page on the CPU backend (Go wasm): the functional tests use it,
// being several times faster than WebGPU on SwiftShader; the tests that
// are about WebGPU load the page at '/'.
export const CPU = '/?backend=cpu';

// ready loads the app and waits for the first reconstruction.
export async function ready(page, path = '/') {
  const t0 = Date.now();
  await page.goto(baseURL + path);
  await page.waitForSelector('[data-testid=canvas-recon]:not([data-seq="0"])', { timeout: FIRST_RECON_MS });
  return Date.now() - t0;
}

export const seq = (page) => page.getAttribute('[data-testid=canvas-recon]', 'data-seq').then(Number);

// nextRecon waits for a reconstruction drawn after the one numbered after.
export async function nextRecon(page, after) {
  await page.waitForFunction((n) => Number(document.querySelector('[data-testid=canvas-recon]').dataset.seq) > n,
    after, { timeout: RECON_MS });
}

// pixels returns a digest of a canvas's size and RGBA pixels.
export const pixels = (page, id) => page.$eval(`[data-testid=${id}]`, async (c) => {
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const h = new Uint8Array(await crypto.subtle.digest('SHA-256', d));
  return `${c.width}x${c.height}:` + Array.from(h.slice(0, 12), (b) => b.toString(16).padStart(2, '0')).join('');
});

export const text = (page, id) => page.textContent(`[data-testid=${id}]`);

// choosePreset picks a training preset and waits until the page has
// applied it: the choice fills the form's fields with the preset's
// defaults, which would overwrite values typed before that render.
export async function choosePreset(page, name) {
  await page.selectOption('[data-testid=train-preset]', name);
  await page.waitForSelector(`[data-testid=train-form][data-preset="${name}"]`, { timeout: RECON_MS });
}

export async function shot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

// expected masked count for L patches at ratio r: L - int(L (1 - r)).
export const maskedFor = (l, r) => l - Math.trunc(l * (1 - r));
