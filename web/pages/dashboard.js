// pages/dashboard.js - analysts: reputation over time.  Two uPlot charts from
// the listening statistics: post counts and net sentiment ((positive -
// negative) / posts, in percent) per hour or per day, one line per value of
// the chosen dimension (source, topic, language, competitor), over the chosen
// range.  Live post events only mark the charts stale; "Refresh" reloads.

import { fill, h, put } from "../lib.js";
import { heading, select, unavailable } from "../ui.js";
import { statsPath, toSeries } from "./stats.js";

const PALETTE = ["#0b6e4f", "#b3261e", "#1a73e8", "#b26a00", "#7b1fa2", "#00838f", "#5d4037", "#c2185b", "#455a64", "#689f38"];
const RANGES = { hour: [["48", "last 48 hours"], ["168", "last 7 days"]], day: [["30", "last 30 days"], ["90", "last 90 days"]] };

let uPlotModule = null;
async function uPlotClass() {
  if (!uPlotModule) uPlotModule = await import("/vendor/uPlot.esm.js");
  return uPlotModule.default;
}

export async function render(ctx, root) {
  const params = new URLSearchParams(location.hash.split("?")[1] || "");
  const view = {
    granularity: params.get("granularity") || "hour",
    dimension: params.get("dimension") || "source",
    span: params.get("span") || "48",
  };
  const charts = [];
  const filters = h("form", { class: "filters", onchange: (e) => {
      const f = e.currentTarget;
      if (e.target.name === "granularity") f.elements.span.value = RANGES[f.elements.granularity.value][0][0];
      view.granularity = f.elements.granularity.value;
      view.dimension = f.elements.dimension.value;
      view.span = f.elements.span.value;
      load();
    }, onsubmit: (e) => { e.preventDefault(); load(); } });
  const drawFilters = () => fill(filters, 
    h("label", null, "By", select("granularity", [["hour", "hour"], ["day", "day"]], view.granularity)),
    h("label", null, "Per", select("dimension", [["all", "all posts"], ["source", "source"], ["topic", "topic"], ["lang", "language"], ["competitor", "competitor"]], view.dimension)),
    h("label", null, "Range", select("span", RANGES[view.granularity], view.span)),
    h("button", { type: "submit", class: "secondary" }, "Refresh"));
  drawFilters();
  const body = h("div", { class: "charts", id: "charts" });
  const stale = h("span", { class: "small muted" });
  put(root, heading("Reputation", stale), filters, body);

  function destroyCharts() {
    for (const c of charts.splice(0)) c.destroy();
  }

  async function load() {
    drawFilters();
    stale.textContent = "";
    const stepMs = view.granularity === "day" ? 86400000 : 3600000;
    const to = Math.ceil(Date.now() / stepMs) * stepMs;
    const from = to - Number(view.span) * stepMs;
    const r = await ctx.api.get(statsPath(view.granularity, view.dimension, from, to));
    destroyCharts();
    if (r.status !== 200) return fill(body, unavailable(r, "Statistics"));
    const s = toSeries(r.data, { from, to, stepMs });
    if (s.values.length === 0) return fill(body, h("p", { class: "muted empty" }, "No posts in this range."));
    const totals = s.values.map((v, i) => [v, s.counts[i].reduce((a, b) => a + (b || 0), 0)]);
    fill(body, 
      h("div", { class: "chart", id: "chart-counts" }, h("h3", null, `Posts per ${view.granularity}`)),
      h("div", { class: "chart", id: "chart-net" }, h("h3", null, `Net sentiment per ${view.granularity} (%)`)),
      h("p", { class: "small muted" }, "Totals in range: ", totals.map(([v, n]) => `${v} ${n}`).join(" · ")));
    const uPlot = await uPlotClass();
    const width = Math.max(320, body.clientWidth - 24);
    const series = (label, i) => ({ label, stroke: PALETTE[i % PALETTE.length], width: 2, spanGaps: false });
    const axes = (unit) => [{}, { label: unit, size: 60 }];
    charts.push(new uPlot({ width, height: 260, series: [{}, ...s.values.map(series)], axes: axes("posts"), scales: { x: { time: true } } },
                          [s.x, ...s.counts], body.querySelector("#chart-counts")));
    charts.push(new uPlot({ width, height: 260, series: [{}, ...s.values.map(series)], axes: axes("net %"),
                            scales: { x: { time: true }, y: { range: [-100, 100] } } },
                          [s.x, ...s.net], body.querySelector("#chart-net")));
  }

  ctx.onLive((ev) => {
    if (ev.type === "listening.post" || ev.type === "post.ingested") stale.textContent = "new posts arrived — refresh";
  });
  await load();
  return destroyCharts;
}
