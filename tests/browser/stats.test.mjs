// stats.test.mjs - the dashboard's statistics-to-series transform against
// hand-computed values (pure function, no browser).

import assert from "node:assert/strict";
import { test } from "node:test";
import { statsPath, toSeries } from "../../web/pages/stats.js";

const H = 3600000;
const from = 1700000000000 - (1700000000000 % H);

test("buckets are filled from `from` to `to`, absent ones zero with no net sentiment", () => {
  const rows = [
    { bucket_ms: from, value: "twitter", posts: 4, positive: 1, negative: 3, neutral: 0 },
    { bucket_ms: from + 2 * H, value: "twitter", posts: 2, positive: 2, negative: 0, neutral: 0 },
    { bucket_ms: from + H, value: "instagram", posts: 10, positive: 5, negative: 2, neutral: 3 },
    { bucket_ms: from + 5 * H, value: "instagram", posts: 99, positive: 0, negative: 0, neutral: 0 }, // outside [from, to)
  ];
  const s = toSeries({ buckets: rows }, { from, to: from + 3 * H, stepMs: H });
  assert.deepEqual(s.x, [from / 1000, from / 1000 + 3600, from / 1000 + 7200]);
  assert.deepEqual(s.values, ["instagram", "twitter"]); // 10 posts before 6
  assert.deepEqual(s.counts, [[0, 10, 0], [4, 0, 2]]);
  // (5 - 2) / 10 = 30 %; (1 - 3) / 4 = -50 %; (2 - 0) / 2 = 100 %.
  assert.deepEqual(s.net, [[null, 30, null], [-50, null, 100]]);
});

test("beyond maxSeries the smallest values are summed as other", () => {
  const rows = ["a", "b", "c", "d"].map((v, i) => ({ bucket_ms: from, value: v, posts: 10 - i, positive: 10 - i, negative: 0 }));
  const s = toSeries(rows, { from, to: from + H, stepMs: H, maxSeries: 3 });
  assert.deepEqual(s.values, ["a", "b", "other"]);
  assert.deepEqual(s.counts, [[10], [9], [15]]);
  assert.deepEqual(s.net, [[100], [100], [100]]);
});

test("the route's path carries the view", () => {
  assert.equal(statsPath("day", "topic", 1, 2), "/api/listening/stats?granularity=day&dimension=topic&from_ms=1&to_ms=2");
});
