// site_worker.js: the site's service worker (site.go gives it to go-app as
// the template of /app-worker.js; go-app fills in the version and the
// list below). It keeps the site usable offline after one visit:
//
// - resourcesToCache (the demo and its assets, the bundled models, the
//   pages /selftest/ and /bench/ with the reference vectors and
//   TensorFlow.js they read) are cached when the worker installs and
//   answered from the cache first; a new version (a hash of those files)
//   installs a new cache and deletes the old ones.
// - A page opened with a query (/bench/?preset=tiny) or without its final
//   slash (/selftest) is not in the cache as such: it is fetched from the
//   network and, offline, answered with the cached page at that path (the
//   page reads its query itself).
const cacheName = "app-" + "{{.Version}}";
const resourcesToCache = {{.ResourcesToCache}};

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(cacheName);
    await cache.addAll(resourcesToCache);
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key !== cacheName) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  if (event.request.method !== "GET") return;
  event.respondWith(answer(event.request));
});

async function answer(request) {
  const cached = await caches.match(request);
  if (cached) return cached;
  try {
    return await fetch(request);
  } catch (err) {
    const url = new URL(request.url);
    if (request.mode === "navigate" && url.origin === self.location.origin) {
      const page = await cachedPage(url.pathname);
      if (page) return page;
    }
    throw err;
  }
}

// cachedPage is the cached page at path, with or without its final slash,
// whatever the query.
async function cachedPage(path) {
  for (const p of path.endsWith("/") ? [path] : [path, path + "/"]) {
    const r = await caches.match(p, { ignoreSearch: true });
    if (r) return r;
  }
  return undefined;
}
