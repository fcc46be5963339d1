// sw.js - the customer app's service worker: keeps the app shell (pages,
// scripts, styles, catalogs, fonts, icons) in a cache so the app opens
// without a network, and fetches it fresh whenever the network answers
// (network first, cache as the fallback), so an update shows on the next
// open.  The API (/api/, the WebSocket) is never cached: money and messages
// always come from the server.

const CACHE = "socialbank-shell-v1";
const SHELL = [
  "/chat.html", "/chat.css", "/console.css", "/chat.js", "/lib.js", "/phone.js", "/profile.js", "/sheet.js", "/wallet.js",
  "/i18n/i18n.js", "/i18n/fonts.css", "/i18n/fa.json", "/i18n/uk.json", "/i18n/ru.json", "/i18n/en.json",
  "/vendor/fonts/Vazirmatn-Regular.woff2", "/vendor/fonts/Vazirmatn-Bold.woff2",
  "/manifest.webmanifest", "/icons/icon.svg", "/icons/icon-192.png",
];

self.addEventListener("install", (event) => {
  // One missing file (fonts not installed) must not stop the rest being cached.
  event.waitUntil(caches.open(CACHE).then((cache) => Promise.all(SHELL.map((url) => cache.add(url).catch(() => null))))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== "GET" || url.origin !== self.location.origin || url.pathname.startsWith("/api/")) return;
  event.respondWith(fetch(req).then((res) => {
    if (res.ok) {
      const copy = res.clone();
      caches.open(CACHE).then((cache) => cache.put(req, copy));
    }
    return res;
  }).catch(() => caches.match(req, { ignoreSearch: true }).then((hit) => hit || (req.mode === "navigate" ? caches.match("/chat.html") : Response.error()))));
});
