// Images given by a person: a photo reconstructs; a text file and a
// truncated PNG are refused with a message while the previous image keeps
// working; a huge image is downscaled and says so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { launch, open, ready, seq, nextRecon, pixels, shot, text, CPU } from '../lib.mjs';

const site = new URL('../../public/web/', import.meta.url);
let browser, page;
before(async () => { browser = await launch(); page = await open(browser); await ready(page, CPU); });
after(async () => { await browser?.close(); });

const input = () => page.locator('[data-testid=image-input]');

test('a photo reconstructs', async () => {
  const before = await pixels(page, 'canvas-original');
  const n = await seq(page);
  await input().setInputFiles({ name: 'my-photo.jpg', mimeType: 'image/jpeg', buffer: readFileSync(new URL('samples/rocket.jpg', site)) });
  await nextRecon(page, n);
  assert.notEqual(await pixels(page, 'canvas-original'), before);
  assert.match(await text(page, 'image-note'), /my-photo\.jpg; center-cropped 512x342 to 342x342, resized to (64x64|224x224)/);
  assert.equal(await page.locator('[data-testid=upload-1]').getAttribute('aria-pressed'), 'true');
  assert.equal(await page.locator('[data-testid=error]').count(), 0);
  await shot(page, 'upload-photo');
});

async function refused(file, pattern) {
  const original = await pixels(page, 'canvas-original');
  await input().setInputFiles(file);
  await page.waitForSelector('[data-testid=error]');
  assert.match(await text(page, 'error'), pattern);
  // the previous image is still the one shown and still reconstructs
  assert.equal(await pixels(page, 'canvas-original'), original);
  assert.match(await text(page, 'image-note'), /my-photo\.jpg/);
  const n = await seq(page);
  await page.click('[data-testid=mask-reroll]');
  await nextRecon(page, n);
  assert.equal(await pixels(page, 'canvas-original'), original);
}

test('a text file is refused', async () => {
  await refused({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image\n') },
    /notes\.txt is not an image \(its type is text\/plain\)/);
  await shot(page, 'upload-text-refused');
  await page.click('.banner.error button');
});

test('a truncated PNG is refused', async () => {
  const png = readFileSync(new URL('icon-512.png', site));
  await refused({ name: 'broken.png', mimeType: 'image/png', buffer: png.subarray(0, Math.floor(png.length * 0.4)) },
    /broken\.png could not be decoded as an image/);
  await page.click('.banner.error button');
});

test('a huge image is downscaled', async () => {
  const dataURL = await page.evaluate(() => {
    const c = document.createElement('canvas');
    c.width = 3000; c.height = 2000;
    const g = c.getContext('2d');
    const grad = g.createLinearGradient(0, 0, 3000, 2000);
    grad.addColorStop(0, '#204080'); grad.addColorStop(1, '#f0c040');
    g.fillStyle = grad; g.fillRect(0, 0, 3000, 2000);
    return c.toDataURL('image/png');
  });
  const n = await seq(page);
  await input().setInputFiles({ name: 'huge.png', mimeType: 'image/png', buffer: Buffer.from(dataURL.split(',')[1], 'base64') });
  await nextRecon(page, n);
  assert.match(await text(page, 'image-note'), /huge\.png \(downscaled from 3000x2000 to 1024x682\)/);
  assert.deepEqual(page.errors, []);
});
