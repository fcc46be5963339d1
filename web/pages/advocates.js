// pages/advocates.js - analysts: brand advocates ranked by positive posts
// weighted by reach, and a "thank" action that records (and, where the
// network allows, sends) the bank's thanks.

import { h } from "../lib.js";
import { heading, statusLine, table, unavailable } from "../ui.js";

export async function render(ctx, root) {
  const box = h("div");
  const status = statusLine();
  async function thank(a, button) {
    button.disabled = true;
    const r = await ctx.api.post("/api/listening/advocates/thank", { source: a.source, author: a.author });
    if (r.ok) {
      status.ok(`Thanked ${a.author} on ${a.source}.`);
      button.textContent = "Thanked";
    } else {
      status.fail(r);
      button.disabled = false;
    }
  }
  async function load() {
    const r = await ctx.api.get("/api/listening/advocates?limit=100");
    if (r.status !== 200) return box.replaceChildren(unavailable(r, "Advocates"));
    const rows = r.data.advocates || [];
    box.replaceChildren(table([
      { title: "#", cell: (a) => rows.indexOf(a) + 1, class: "num" },
      { title: "Author", cell: (a) => h("span", { dir: "auto" }, a.author) },
      { title: "Source", cell: (a) => a.source },
      { title: "Positive posts", cell: (a) => a.positive_posts, class: "num" },
      { title: "Reach", cell: (a) => (Number.isSafeInteger(a.reach) ? a.reach.toLocaleString("en-US") : "—"), class: "num" },
      { title: "Score", cell: (a) => (Number.isFinite(a.score) ? a.score.toFixed(1) : "—"), class: "num" },
      { title: "", cell: (a) => {
          const b = h("button", { type: "button", class: "secondary thank", disabled: !!a.thanked_at_ms }, a.thanked_at_ms ? "Thanked" : "Thank");
          b.addEventListener("click", () => thank(a, b));
          return b;
        } },
    ], rows, { empty: "No advocates yet." }));
  }
  root.append(heading("Advocates"), h("p", { class: "small muted" }, "Score = positive posts × ln(1 + reach)."), status.el, box);
  await load();
}
