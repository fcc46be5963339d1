// pages/stats.js - the reputation statistics as chart series: the route's
// path for a view, and its rows turned into uPlot's column data (pure
// functions: no DOM, tested under node too).

/** The statistics route for a granularity ("hour"|"day"), dimension and [from, to) in ms. */
export function statsPath(granularity, dimension, fromMs, toMs) {
  const q = new URLSearchParams({ granularity, dimension, from_ms: String(fromMs), to_ms: String(toMs) });
  return `/api/listening/stats?${q}`;
}

/**
 * Rows {bucket_ms, value, posts, positive, negative, neutral} (value "" or
 * absent for "all") -> {x: bucket starts in seconds from `from` to `to` by
 * stepMs, values: [names...], counts: [[posts per bucket]...], net: [[percent
 * or null]...]}.  Absent buckets count zero posts and have no net sentiment
 * (null: a gap, not a zero).  Values are ordered by total posts, largest
 * first, and at most maxSeries are kept (the rest are summed as "other").
 */
export function toSeries(data, { from, to, stepMs, maxSeries = 8 }) {
  const rows = Array.isArray(data) ? data : (data && (data.buckets || data.stats || data.rows)) || [];
  const n = Math.max(0, Math.ceil((to - from) / stepMs));
  const x = Array.from({ length: n }, (_, i) => (from + i * stepMs) / 1000);
  const per = new Map(); // value -> {posts: [], pos: [], neg: [], total}
  for (const row of rows) {
    const t = row.bucket_ms ?? row.bucket ?? row.t;
    if (!Number.isFinite(t) || t < from || t >= to) continue;
    const i = Math.floor((t - from) / stepMs);
    const name = row.value === undefined || row.value === null || row.value === "" ? "all" : String(row.value);
    if (!per.has(name)) per.set(name, { posts: new Array(n).fill(0), pos: new Array(n).fill(0), neg: new Array(n).fill(0), total: 0 });
    const s = per.get(name);
    const posts = Number(row.posts) || 0;
    s.posts[i] += posts;
    s.pos[i] += Number(row.positive) || 0;
    s.neg[i] += Number(row.negative) || 0;
    s.total += posts;
  }
  let names = [...per.keys()].sort((a, b) => per.get(b).total - per.get(a).total || a.localeCompare(b));
  if (names.length > maxSeries) {
    const other = { posts: new Array(n).fill(0), pos: new Array(n).fill(0), neg: new Array(n).fill(0), total: 0 };
    for (const name of names.slice(maxSeries - 1)) {
      const s = per.get(name);
      for (let i = 0; i < n; i++) { other.posts[i] += s.posts[i]; other.pos[i] += s.pos[i]; other.neg[i] += s.neg[i]; }
      other.total += s.total;
    }
    names = names.slice(0, maxSeries - 1);
    per.set("other", other);
    names.push("other");
  }
  const counts = names.map((name) => per.get(name).posts);
  const net = names.map((name) => {
    const s = per.get(name);
    return s.posts.map((p, i) => (p > 0 ? Math.round(((s.pos[i] - s.neg[i]) * 1000) / p) / 10 : null));
  });
  return { x, values: names, counts, net };
}
