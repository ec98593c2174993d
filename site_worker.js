// site_worker.js: the site's service worker (site.go gives it to go-app as
// the template of /app-worker.js; go-app fills in the version and the
// install list, site.go the list of files cached on request). It keeps
// the site usable offline after one visit:
//
// - resourcesToCache (the demo and its assets, the bundled models, the
//   pages /selftest/ and /bench/) are cached when the worker installs and
//   answered from the cache first; a new version (a hash of every file
//   this worker may cache) installs a new cache and deletes the old ones.
// - resourcesOnRequest (the self-test's reference vectors, the
//   benchmark's TensorFlow.js) are not downloaded at install: a page that
//   has read some of them posts {type: "keep", urls: [...]} with a
//   MessagePort (internal/offline), and the worker caches them and
//   answers {kept: n} (the number it fetched) or {error: "..."}. The
//   message works on the page's first visit too, before the worker
//   controls it. A new version fetches again those that an old cache
//   holds, so the pages stay offline across updates.
// - A page opened with a query (/bench/?preset=tiny) or without its final
//   slash (/selftest) is not in the cache as such: it is fetched from the
//   network and, offline, answered with the cached page at that path (the
//   page reads its query itself).
const cacheName = "app-" + "{{.Version}}";
const resourcesToCache = {{.ResourcesToCache}};
const resourcesOnRequest = {{.ResourcesOnRequest}};

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(cacheName);
    await cache.addAll(resourcesToCache);
    await cache.addAll(await keptByOldCaches());
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

self.addEventListener("message", (event) => {
  const msg = event.data;
  if (!msg || msg.type !== "keep") return;
  const reply = event.ports[0];
  event.waitUntil(keep(msg.urls).then(
    (n) => reply?.postMessage({ kept: n }),
    (err) => reply?.postMessage({ error: String(err?.message ?? err) })));
});

// keep caches the files of urls (site paths, each one of
// resourcesOnRequest) that the cache does not hold yet; it resolves to
// how many it fetched.
async function keep(urls) {
  if (!Array.isArray(urls)) throw new Error("keep: urls is not a list");
  const refused = urls.filter((u) => !resourcesOnRequest.includes(u));
  if (refused.length) throw new Error(`keep: not files this site caches on request: ${refused.join(", ")}`);
  const cache = await caches.open(cacheName);
  const missing = [];
  for (const u of new Set(urls)) {
    if (!(await cache.match(u))) missing.push(u);
  }
  await cache.addAll(missing);
  return missing.length;
}

// keptByOldCaches are the files of resourcesOnRequest that a cache of an
// older version holds: a page asked for them once.
async function keptByOldCaches() {
  const kept = new Set();
  for (const key of await caches.keys()) {
    if (key === cacheName) continue;
    const old = await caches.open(key);
    for (const u of resourcesOnRequest) {
      if (!kept.has(u) && (await old.match(u))) kept.add(u);
    }
  }
  return [...kept];
}

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
