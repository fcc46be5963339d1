// pages/dashboard.js - analysts and marketers: reputation at a glance.
// Headline figures first (GET /api/listening/dashboard: volume, share
// negative, net sentiment, share of voice against competitors), then the
// response figures per department (mean first response, SLA attainment) and
// open cases by age, then two uPlot charts from the statistics (posts per
// day by source, net sentiment per day).  Numbers in the reader's digits.

import { fill, h, put } from "../lib.js";
import { fmtNumber, locale, t, tn } from "../i18n/i18n.js";
import { heading, table, unavailable, word } from "./cui.js";
import { statsPath, toSeries } from "./stats.js";

const PALETTE = ["#0b6e4f", "#b3261e", "#1a73e8", "#b26a00", "#7b1fa2", "#00838f", "#5d4037", "#c2185b", "#455a64", "#689f38"];
const DAY = 86400000;
const AGES = ["under_1h", "1h_4h", "4h_24h", "1d_3d", "over_3d"];

let uPlotModule = null;
async function uPlotClass() {
  if (!uPlotModule) uPlotModule = await import("/vendor/uPlot.esm.js");
  return uPlotModule.default;
}

const percent = (x) => new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0 }).format(x);
const signedPercent = (x) => new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0, signDisplay: "exceptZero" }).format(x);

export async function render(ctx, root) {
  const charts = [];
  const figures = h("div", { class: "figures", id: "figures" });
  const response = h("div", { class: "response" });
  const body = h("div", { class: "charts", id: "charts" });
  put(root, heading(t("page.dashboard"), h("span", { class: "small muted" }, t("dash.range_30"))), figures, response, body);

  const figure = (label, value, detail) => h("div", { class: "figure" },
    h("div", { class: "label" }, label), h("div", { class: "value" }, value), detail ? h("div", { class: "small muted" }, detail) : null);

  async function loadFigures() {
    const r = await ctx.api.get("/api/listening/dashboard");
    if (r.status !== 200) return fill(figures, unavailable(r));
    const d = r.data;
    const others = Object.values(d.share_of_voice.competitors || {}).reduce((a, b) => a + b, 0);
    fill(figures,
      figure(t("dash.volume"), fmtNumber(d.volume)),
      figure(t("dash.share_negative"), percent(d.share_negative)),
      figure(t("dash.net"), signedPercent(d.net_sentiment)),
      figure(t("dash.sov"), percent(d.share_of_voice.bank_share),
        t("dash.sov_detail", { bank: d.share_of_voice.bank, others })));
    const minutes = (ms) => (ms === null || ms === undefined ? t("common.none") : tn("dash.minutes", Math.round(ms / 60000)));
    fill(response,
      h("h3", null, t("dash.departments")),
      table([
        { title: t("inbox.col.department"), cell: (x) => h("span", { dir: "ltr" }, x.department) },
        { title: t("dash.col.cases"), cell: (x) => fmtNumber(x.cases), class: "num" },
        { title: t("dash.col.replied"), cell: (x) => fmtNumber(x.replied), class: "num" },
        { title: t("dash.col.first_response"), cell: (x) => minutes(x.first_response_ms_mean), class: "num" },
        { title: t("dash.col.sla"), cell: (x) => (x.sla_attainment === null ? t("common.none") : percent(x.sla_attainment)), class: "num" },
      ], d.departments || []),
      h("h3", null, t("dash.open_by_age")),
      h("div", { class: "figures" }, AGES.map((k) => figure(t(`dash.age.${k}`), fmtNumber((d.open_cases_by_age || {})[k] || 0)))));
  }

  async function loadCharts() {
    const to = Math.ceil(Date.now() / DAY) * DAY;
    const from = to - 30 * DAY;
    const r = await ctx.api.get(statsPath("day", "source", from, to));
    for (const c of charts.splice(0)) c.destroy();
    if (r.status !== 200) return fill(body, unavailable(r));
    const s = toSeries(r.data, { from, to, stepMs: DAY });
    if (s.values.length === 0) return fill(body, h("p", { class: "muted empty" }, t("dash.no_posts")));
    fill(body,
      h("div", { class: "chart", id: "chart-counts" }, h("h3", null, t("dash.chart.counts"))),
      h("div", { class: "chart", id: "chart-net" }, h("h3", null, t("dash.chart.net"))));
    const uPlot = await uPlotClass();
    const width = Math.max(320, body.clientWidth - 24);
    const series = (name, i) => ({ label: word(name), stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false });
    const fmtDay = new Intl.DateTimeFormat(locale(), { day: "numeric", month: "short", timeZone: "UTC" });
    const axes = (unit) => [{ values: (u, ticks) => ticks.map((x) => fmtDay.format(new Date(x * 1000))) },
                            { label: unit, size: 60, values: (u, ticks) => ticks.map((v) => fmtNumber(v)) }];
    const opts = (unit, extra = {}) => ({ width, height: 240, series: [{ label: t("stream.col.when"), value: (u, x) => (x ? fmtDay.format(new Date(x * 1000)) : "") }, ...s.values.map(series)],
                                          axes: axes(unit), scales: { x: { time: true }, ...extra } });
    charts.push(new uPlot(opts(t("dash.axis.posts")), [s.x, ...s.counts], body.querySelector("#chart-counts")));
    charts.push(new uPlot(opts(t("dash.axis.net"), { y: { range: [-100, 100] } }), [s.x, ...s.net], body.querySelector("#chart-net")));
  }

  await Promise.all([loadFigures(), loadCharts()]);
  return () => { for (const c of charts.splice(0)) c.destroy(); };
}
