// Images given by a person, at desktop and phone sizes: a photo
// reconstructs; the same photo again selects it instead of adding a copy;
// a text file and a truncated PNG are refused with one sentence (the
// detail is a console warning, not an error) while the previous image
// keeps working; a huge image is downscaled and says so; uploads can be
// removed, and the selection moves to the next item.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, open, ready, seq, nextRecon, pixels, shot, text, artifacts, CPU } from '../lib.mjs';

const site = new URL('../../public/web/', import.meta.url);
const rocket = readFileSync(new URL('samples/rocket.jpg', site));
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

for (const v of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
  const size = `${v.width}x${v.height}`;
  let page;
  const input = () => page.locator('[data-testid=image-input]');
  const pressed = (id) => page.getAttribute(`[data-testid=${id}]`, 'aria-pressed');

  test(`${size}: a photo reconstructs`, async () => {
    page = await open(browser, { viewport: v });
    page.warnings = [];
    page.on('console', (m) => { if (m.type() === 'warning') page.warnings.push(m.text()); });
    await ready(page, CPU);
    const before = await pixels(page, 'canvas-original');
    const n = await seq(page);
    await input().setInputFiles({ name: 'my-photo.jpg', mimeType: 'image/jpeg', buffer: rocket });
    await nextRecon(page, n);
    assert.notEqual(await pixels(page, 'canvas-original'), before);
    assert.match(await text(page, 'image-note'), /my-photo\.jpg; center-cropped 512x342 to 342x342, resized to (64x64|224x224)/);
    assert.equal(await pressed('upload-1'), 'true');
    assert.equal(await page.locator('[data-testid=error]').count(), 0);
    await shot(page, `upload-photo-${size}`);
  });

  test(`${size}: the same photo again selects it, not a copy`, async () => {
    let n = await seq(page);
    await page.click('[data-testid=sample-chelsea]');
    await nextRecon(page, n);
    assert.equal(await pressed('upload-1'), 'false');
    n = await seq(page);
    await input().setInputFiles({ name: 'again.jpg', mimeType: 'image/jpeg', buffer: rocket });
    await nextRecon(page, n);
    assert.equal(await text(page, 'gallery-note'), 'again.jpg is already in the gallery as my-photo.jpg: selected it, not added again.');
    assert.equal(await page.locator('[data-testid=upload-2]').count(), 0, 'no second thumbnail');
    assert.equal(await pressed('upload-1'), 'true');
    assert.match(await text(page, 'image-note'), /my-photo\.jpg/);
    await shot(page, `upload-again-${size}`);
    await page.locator('.images').screenshot({ path: join(artifacts, `upload-again-card-${size}.png`) });
  });

  async function refused(file, pattern) {
    const original = await pixels(page, 'canvas-original');
    const warnings = page.warnings.length;
    await input().setInputFiles(file);
    await page.waitForSelector('[data-testid=error]');
    const msg = await text(page, 'error');
    assert.match(msg, pattern);
    assert.equal(msg.split(/[.:] [A-Z]/).length, 1, `one sentence: ${msg}`);
    assert.ok(page.warnings.slice(warnings).some((w) => w.includes(file.name)), 'the detail is a console warning');
    // the previous image is still the one shown and still reconstructs
    assert.equal(await pixels(page, 'canvas-original'), original);
    assert.match(await text(page, 'image-note'), /my-photo\.jpg/);
    const n = await seq(page);
    await page.click('[data-testid=mask-reroll]');
    await nextRecon(page, n);
    assert.equal(await pixels(page, 'canvas-original'), original);
    return msg;
  }

  test(`${size}: a text file is refused`, async () => {
    await refused({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image\n') },
      /^notes\.txt is not an image \(its type is text\/plain\): choose a JPEG, PNG, WebP, GIF or BMP file\.$/);
    await shot(page, `upload-text-refused-${size}`);
    await page.click('.banner.error button');
  });

  test(`${size}: a truncated PNG is refused`, async () => {
    const png = readFileSync(new URL('icon-512.png', site));
    const msg = await refused({ name: 'broken.png', mimeType: 'image/png', buffer: png.subarray(0, Math.floor(png.length * 0.4)) },
      /^broken\.png could not be decoded as an image .*: open it in an image viewer to check it, or choose another image\.$/);
    assert.doesNotMatch(msg, /InvalidStateError|source image/);
    assert.ok(page.warnings.some((w) => /broken\.png.*InvalidStateError/.test(w)), 'the browser\'s words are in the console');
    await shot(page, `upload-broken-refused-${size}`);
    await page.click('.banner.error button');
  });

  test(`${size}: a huge image is downscaled`, async () => {
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
    assert.equal(await pressed('upload-2'), 'true');
  });

  test(`${size}: uploads can be removed, samples stay`, async () => {
    assert.equal(await page.locator('[data-testid^=remove-]').count(), 2, 'a remove button per upload, none for samples');
    assert.equal(await page.getAttribute('[data-testid=remove-upload-2]', 'aria-label'), 'Remove huge.png');
    await shot(page, `upload-gallery-${size}`);
    await page.locator('.images').screenshot({ path: join(artifacts, `upload-gallery-card-${size}.png`) });
    // removing the current picture shows the item that takes its place
    let n = await seq(page);
    await page.click('[data-testid=remove-upload-2]');
    await nextRecon(page, n);
    assert.equal(await page.locator('[data-testid=upload-2]').count(), 0);
    assert.equal(await text(page, 'gallery-note'), 'Removed huge.png; showing my-photo.jpg.');
    assert.equal(await pressed('upload-1'), 'true');
    assert.match(await text(page, 'image-note'), /my-photo\.jpg/);
    // the last upload: the first sample takes its place
    n = await seq(page);
    await page.click('[data-testid=remove-upload-1]');
    await nextRecon(page, n);
    assert.equal(await text(page, 'gallery-note'), 'Removed my-photo.jpg; showing Chelsea the cat.');
    assert.equal(await pressed('sample-chelsea'), 'true');
    assert.equal(await page.locator('[data-testid^=remove-]').count(), 0);
    assert.equal(await page.locator('[data-testid^=sample-]').count(), 11, 'the samples stay');
    await shot(page, `upload-removed-${size}`);
    await page.locator('.images').screenshot({ path: join(artifacts, `upload-removed-card-${size}.png`) });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}
