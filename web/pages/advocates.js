// pages/advocates.js - brand advocates ranked by positive posts weighted by
// reach, and (for marketers and admins, whom the server allows) a "thank"
// action: for messenger and own-channel authors the bank's message is
// delivered in the messenger, for other networks it is recorded to post.

import { fill, h, put } from "../lib.js";
import { heading, statusLine, table, unavailable } from "../ui.js";

const DEFAULT_THANKS = "Thank you for your kind words about us. It means a lot to our team!";

export async function render(ctx, root) {
  const box = h("div");
  const status = statusLine();
  const canThank = ctx.me.role === "marketer" || ctx.me.role === "admin";
  const thanks = h("textarea", { name: "thanks", rows: 2, maxlength: 1000, dir: "auto" });
  thanks.value = DEFAULT_THANKS;

  async function thank(a, button) {
    button.disabled = true;
    const r = await ctx.api.post("/api/listening/advocates/thank", { source: a.source, author: a.author, text: thanks.value });
    if (r.status === 201) {
      status.ok(`Thanked ${a.author} on ${a.source}: ${r.data.delivery} via ${r.data.channel}.`);
      button.textContent = "Thanked";
    } else {
      status.fail(r);
      button.disabled = false;
    }
  }
  async function load() {
    const r = await ctx.api.get("/api/listening/advocates?limit=100");
    if (r.status !== 200) return fill(box, unavailable(r, "Advocates"));
    const rows = r.data.advocates || [];
    fill(box, table([
      { title: "#", cell: (a) => rows.indexOf(a) + 1, class: "num" },
      { title: "Author", cell: (a) => h("span", { dir: "auto" }, a.author) },
      { title: "Source", cell: (a) => a.source },
      { title: "Positive posts", cell: (a) => a.positive_posts, class: "num" },
      { title: "Reach", cell: (a) => (Number.isSafeInteger(a.reach) ? a.reach.toLocaleString("en-US") : "—"), class: "num" },
      { title: "Score", cell: (a) => (Number.isFinite(a.score) ? a.score.toFixed(1) : "—"), class: "num" },
      canThank ? { title: "", cell: (a) => {
          const b = h("button", { type: "button", class: "secondary thank" }, "Thank");
          b.addEventListener("click", () => thank(a, b));
          return b;
        } } : null,
    ].filter(Boolean), rows, { empty: "No advocates yet." }));
  }
  put(root, heading("Advocates"), h("p", { class: "small muted" }, "Score = positive posts × ln(1 + reach)."),
    canThank ? h("label", null, "Thanks message", thanks) : null, status.el, box);
  await load();
}
