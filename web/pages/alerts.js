// pages/alerts.js - analysts: alerts on negative volume and risks (such as an
// insolvency rumour) far above their recent baseline, with the test's
// figures: observed count, baseline per hour, p-value and threshold.  New
// alerts arrive live over the WebSocket and go on top.

import { fill, h, put } from "../lib.js";
import { chip, heading, table, unavailable, when } from "../ui.js";

function fixed(x, digits) {
  return Number.isFinite(x) ? x.toFixed(digits) : "—";
}
function pValue(p) {
  return Number.isFinite(p) ? (p < 0.001 ? p.toExponential(1) : p.toFixed(3)) : "—";
}

export async function render(ctx, root) {
  let alerts = [];
  const box = h("div");
  const draw = () => fill(box, table([
    { title: "Raised", cell: (a) => when(a.raised_at_ms) },
    { title: "Metric", cell: (a) => chip(a.metric) },
    { title: "Observed (last hour)", cell: (a) => a.observed, class: "num" },
    { title: "Baseline / hour", cell: (a) => `${fixed(a.baseline_per_hour, 2)} over ${a.baseline_hours ?? "?"} h`, class: "num" },
    { title: "p-value", cell: (a) => `${pValue(a.p_value)} < ${a.p_threshold ?? "?"}`, class: "num" },
    { title: "Would alert from", cell: (a) => a.threshold_count ?? "—", class: "num" },
  ], alerts, { empty: "No alerts.", rowAttrs: (a) => ({ dataset: { alertId: a.id } }) }));

  async function load() {
    const r = await ctx.api.get("/api/listening/alerts?limit=100");
    if (r.status !== 200) return fill(box, unavailable(r, "Alerts"));
    alerts = r.data.alerts || [];
    draw();
  }
  ctx.onLive((ev) => {
    if (ev.type === "live.open") return load();
    if (ev.type === "listening.alert" && ev.alert) {
      const a = ev.alert;
      if (!alerts.some((x) => x.id === a.id)) alerts.unshift(a);
      draw();
    }
  });
  put(root, heading("Alerts"), h("p", { class: "small muted" },
    "An alert is raised when the last hour's count is improbable under a Poisson model of the recent baseline (p below the threshold) and at least the minimum count."), box);
  await load();
}
