// pages/alerts.js - analysts: alerts on negative volume and risks (such as an
// insolvency rumour) far above their recent baseline, with the test's
// figures: the last hour's count, the baseline per hour, the p-value and the
// count that would alert.  New alerts arrive live over the WebSocket.

import { fill, h, put } from "../lib.js";
import { fmtNumber, locale, t } from "../i18n/i18n.js";
import { heading, table, unavailable, when, word } from "./cui.js";

const decimal = (x, digits) => (Number.isFinite(x) ? new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(x) : t("common.none"));
const pValue = (p) => (Number.isFinite(p) ? new Intl.NumberFormat(locale(), { notation: p < 0.001 ? "scientific" : "standard", maximumSignificantDigits: 2 }).format(p) : t("common.none"));
const metric = (m) => (m === "negative" ? t("alerts.metric.negative") : m && m.startsWith("risk:") ? word(m.slice(5)) : String(m ?? ""));

export async function render(ctx, root) {
  let alerts = [];
  const box = h("div");
  const draw = () => fill(box, table([
    { title: t("alerts.col.raised"), cell: (a) => when(a.raised_at_ms) },
    { title: t("alerts.col.metric"), cell: (a) => h("span", { class: "chip" }, metric(a.metric)) },
    { title: t("alerts.col.observed"), cell: (a) => fmtNumber(a.observed), class: "num" },
    { title: t("alerts.col.baseline"), cell: (a) => decimal(a.baseline_per_hour, 2), class: "num" },
    { title: t("alerts.col.p"), cell: (a) => pValue(a.p_value), class: "num" },
    { title: t("alerts.col.threshold"), cell: (a) => fmtNumber(a.threshold_count ?? 0), class: "num" },
  ], alerts, { empty: t("alerts.empty"), rowAttrs: (a) => ({ dataset: { alertId: a.id, metric: a.metric } }) }));

  async function load() {
    const r = await ctx.api.get("/api/listening/alerts?limit=100");
    if (r.status !== 200) return fill(box, unavailable(r));
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
  put(root, heading(t("page.alerts")), h("p", { class: "small muted" }, t("alerts.help")), box);
  await load();
}
