// A static website on a strict static server, for the browser tests: a
// copy of the site (public/) written by `webmae static`, served by a plain
// file server like `python3 -m http.server` — no .html fallback, no
// rewrites, no compression: a directory without its final slash is
// redirected to it, a directory answers its index.html, anything else
// that is not a file is a 404.
import { createServer } from 'node:http';
import { cpSync, mkdtempSync, rmSync, statSync, createReadStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, extname, sep } from 'node:path';
import { execFileSync } from 'node:child_process';

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.wasm': 'application/wasm', '.webmanifest': 'application/manifest+json', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.jpg': 'image/jpeg', '.md': 'text/markdown', '.csv': 'text/csv',
};

// buildStaticSite copies the site (without precompressed copies, and
// without TensorFlow.js when tfjs is false, as when e2e's npm packages are
// not installed) into a temporary directory and writes the static website
// there with `webmae static`. It returns the directory.
export function buildStaticSite({ tfjs }) {
  const bin = process.env.WEBMAE_BIN, site = process.env.WEBMAE_SITE;
  if (!bin || !site) throw new Error('WEBMAE_BIN and WEBMAE_SITE name the webmae binary and the site: run through e2e/run.sh');
  const dir = mkdtempSync(join(tmpdir(), 'webmae-static-'));
  cpSync(site, dir, {
    recursive: true,
    filter: (src) => !/\.(br|gz|tmp)$/.test(src) && (tfjs || !src.includes(`${sep}web${sep}vendor`)),
  });
  execFileSync(bin, ['static', '-dir', dir], { stdio: ['ignore', 'ignore', 'inherit'] });
  return dir;
}

// serveStatic serves dir on a free loopback port; it resolves to
// { url, close }.
export function serveStatic(dir) {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
    if (path.split('/').some((p) => p === '..')) { res.writeHead(400).end(); return; }
    let file = join(dir, path);
    let st;
    try { st = statSync(file); } catch { res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found'); return; }
    if (st.isDirectory()) {
      if (!path.endsWith('/')) { res.writeHead(301, { Location: path + '/' + query }).end(); return; }
      file = join(file, 'index.html');
      try { st = statSync(file); } catch { res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found'); return; }
    }
    res.writeHead(200, { 'Content-Type': types[extname(file)] || 'application/octet-stream', 'Content-Length': st.size, 'Cache-Control': 'no-cache' });
    if (req.method === 'HEAD') { res.end(); return; }
    createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const url = `http://127.0.0.1:${server.address().port}`;
      resolve({
        url,
        close: () => new Promise((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}

export function removeStaticSite(dir) { rmSync(dir, { recursive: true, force: true }); }
