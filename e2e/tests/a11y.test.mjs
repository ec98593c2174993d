// Every control of the demo, at desktop and phone sizes, has an accessible
// name (a label element, aria-label or aria-labelledby, or its text for a
// button; a placeholder does not count), is reached with the Tab key, and
// nothing that handles clicks is out of the keyboard's reach. The names
// are Chromium's own (the accessibility tree, through the DevTools
// protocol), as are the click listeners.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { launch, open, ready, seq, nextRecon, artifacts, CPU } from '../lib.mjs';

const site = new URL('../../public/web/', import.meta.url);
let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

const CONTROLS = 'input, button, select, textarea, [role=button], a[href]';
// The masked view's patches get their keyboard navigation in another
// change (issue 13, item 9's second half); its canvas is left out here.
const ELSEWHERE = '[data-testid=canvas-masked]';

// controls numbers the page's rendered controls (data-a11y) and describes
// them (a disabled one needs a name too, but Tab passes it by).
const controls = (page) => page.$$eval(CONTROLS, (els, elsewhere) => els
  .filter((e) => e.getClientRects().length > 0 && !e.closest('[hidden], [inert]') && !e.matches(elsewhere))
  .map((e, i) => {
    e.dataset.a11y = String(i);
    return {
      i, tag: e.tagName.toLowerCase(), disabled: e.disabled,
      id: e.dataset.testid || e.id || e.className || e.textContent.trim().slice(0, 30), placeholder: e.getAttribute('placeholder') || '',
    };
  }), ELSEWHERE);

// names returns Chromium's accessible name of each numbered control.
async function names(page, list) {
  const cdp = await page.context().newCDPSession(page);
  const { root } = await cdp.send('DOM.getDocument', { depth: 0 });
  const out = [];
  for (const c of list) {
    const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector: `[data-a11y="${c.i}"]` });
    const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false });
    out.push((nodes[0]?.name?.value || '').trim());
  }
  await cdp.detach();
  return out;
}

// clickOnly lists the elements with a click listener that the keyboard
// cannot reach (not a control, no tabindex), and counts the elements with
// click listeners it saw.
async function clickOnly(page) {
  const cdp = await page.context().newCDPSession(page);
  const { result } = await cdp.send('Runtime.evaluate', { expression: 'Array.from(document.querySelectorAll("body *"))' });
  const { result: props } = await cdp.send('Runtime.getProperties', { objectId: result.objectId, ownProperties: true });
  const out = [];
  let clickable = 0;
  for (const p of props) {
    if (!/^\d+$/.test(p.name) || !p.value?.objectId) continue;
    const { listeners } = await cdp.send('DOMDebugger.getEventListeners', { objectId: p.value.objectId });
    if (!listeners.some((l) => ['click', 'mousedown', 'pointerdown'].includes(l.type))) continue;
    clickable++;
    const { result: r } = await cdp.send('Runtime.callFunctionOn', {
      objectId: p.value.objectId, returnByValue: true, arguments: [{ value: CONTROLS }, { value: ELSEWHERE }],
      functionDeclaration: 'function (controls, elsewhere) { return this.matches(controls) || this.matches(elsewhere) || this.hasAttribute("tabindex") || this.tagName === "SUMMARY" || this.tagName === "LABEL" ? "" : this.outerHTML.slice(0, 80); }',
    });
    if (r.value) out.push(r.value);
  }
  await cdp.detach();
  return { out, clickable };
}

// tabbed presses Tab from the top of the page until focus comes back
// round, returning the numbers (data-a11y) of the controls it reached.
async function tabbed(page, n) {
  await page.evaluate(() => { document.activeElement?.blur(); window.scrollTo(0, 0); });
  const seen = new Set();
  let first = null;
  for (let k = 0; k < n + 40; k++) {
    await page.keyboard.press('Tab');
    const i = await page.evaluate(() => document.activeElement?.dataset?.a11y ?? null);
    if (i === null) continue;
    if (i === first) break;
    first ??= i;
    seen.add(Number(i));
  }
  return seen;
}

for (const v of [{ width: 1280, height: 800 }, { width: 390, height: 844 }]) {
  const size = `${v.width}x${v.height}`;
  test(`${size}: every control has a name and is reached with Tab`, async () => {
    const page = await open(browser, { viewport: v });
    await ready(page, CPU);
    // an upload, for its remove button
    const n = await seq(page);
    await page.locator('[data-testid=image-input]').setInputFiles({ name: 'photo.jpg', mimeType: 'image/jpeg', buffer: readFileSync(new URL('samples/rocket.jpg', site)) });
    await nextRecon(page, n);
    const list = await controls(page);
    const named = await names(page, list);
    const unnamed = list.filter((c, k) => !named[k] || named[k] === c.placeholder).map((c) => `${c.tag} ${c.id}`);
    console.log(`${size}: ${list.length} controls, ${unnamed.length} without a name`);
    assert.deepEqual(unnamed, [], 'controls without an accessible name');
    const reached = await tabbed(page, list.length);
    const enabled = list.filter((c) => !c.disabled);
    const missed = enabled.filter((c) => !reached.has(c.i)).map((c) => `${c.tag} ${c.id}`);
    console.log(`${size}: Tab reached ${reached.size} of the ${enabled.length} enabled controls`);
    assert.deepEqual(missed, [], 'controls Tab does not reach');
    const clicks = await clickOnly(page);
    console.log(`${size}: ${clicks.clickable} elements handle clicks`);
    assert.ok(clicks.clickable >= 20, 'the buttons\' click listeners are seen');
    assert.deepEqual(clicks.out, [], 'click handlers out of the keyboard\'s reach');
    // a focused control shows it: the file input's label is outlined
    await page.focus('[data-testid=image-input]');
    await page.locator('.images').screenshot({ path: join(artifacts, `a11y-focus-open-${size}.png`) });
    await page.focus('[data-testid=remove-upload-1]');
    await page.locator('.images').screenshot({ path: join(artifacts, `a11y-focus-remove-${size}.png`) });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}
