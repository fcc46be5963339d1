// grammy_test.mjs - grammY (npm, a client nobody here wrote) runs a real bot
// against SocialBank's Bot API with its own long-polling loop (bot.start():
// deleteWebhook, then getUpdates with a 30 s timeout, offsets confirmed),
// pointed at the server's API root.  Started by tests/integration/
// test_botapi.c with the server running and two customers logged in; the
// customers' side goes through the bank's own HTTP API.  Checks: an echo bot
// answers a customer's message; an inline keyboard pressed by the customer
// reaches the bot's callback handler, which answers it and edits the
// message; an edited message reaches the edited_message handler; an invoice
// is paid by the customer (pre_checkout_query answered by the handler,
// successful_payment received, the payer's wallet down by the total); the
// library's own error class for a bad token.  Exit 0 when all passed.
// Environment: SB_PORT, SB_ADMIN_TOKEN, SB_A_TOKEN, SB_A_ID.
import { Bot, GrammyError, InlineKeyboard } from "grammy";

const base = `http://127.0.0.1:${process.env.SB_PORT}`;
const admin = process.env.SB_ADMIN_TOKEN;
const aToken = process.env.SB_A_TOKEN;
const aId = Number(process.env.SB_A_ID);
const BOUND_MS = 20000; // a bound on waits, not a speed claim

function check(cond, what, ...context) {
  if (!cond) throw new Error(`${what} ${context.map((c) => JSON.stringify(c)).join(" ")}`);
}

async function api(method, path, token, body) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(base + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  return [r.status, text ? JSON.parse(text) : null];
}

// Resolve when pred() holds (polled), or fail after BOUND_MS.
async function until(pred, what) {
  const deadline = Date.now() + BOUND_MS;
  while (Date.now() < deadline) {
    const v = await pred();
    if (v) return v;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out: ${what}`);
}

// Call again after retry_after when the server's rate limit says 429, as a
// careful bot does (the echoes above use the chat's burst).
async function patiently(call) {
  for (let i = 0; ; i++) {
    try {
      return await call();
    } catch (e) {
      if (!(e instanceof GrammyError) || e.error_code !== 429 || i >= 5) throw e;
      check(e.parameters.retry_after >= 1, "retry_after", e.parameters);
      await new Promise((r) => setTimeout(r, e.parameters.retry_after * 1000));
    }
  }
}

async function main() {
  const [st, made] = await api("POST", "/api/admin/bots", admin, { username: "grammyechobot" });
  check(st === 201, "create bot", st, made);
  const bot = new Bot(made.token, { client: { apiRoot: base } });
  const seen = { callbacks: [], edits: [], paid: [] };

  bot.on("message:text", (ctx) => ctx.reply(`echo: ${ctx.message.text}`));
  bot.on("edited_message:text", (ctx) => { seen.edits.push(ctx.editedMessage); });
  bot.on("callback_query:data", async (ctx) => {
    seen.callbacks.push(ctx.callbackQuery);
    await ctx.answerCallbackQuery({ text: "got it" });
    await ctx.editMessageText(`you chose ${ctx.callbackQuery.data}`);
  });
  bot.on("pre_checkout_query", (ctx) => ctx.answerPreCheckoutQuery(true));
  bot.on("message:successful_payment", (ctx) => { seen.paid.push(ctx.message.successful_payment); });
  bot.catch((err) => { console.error("grammY handler error:", err); process.exitCode = 1; });

  await bot.init();
  check(bot.botInfo.id === made.bot.id && bot.botInfo.is_bot && bot.botInfo.username === "grammyechobot",
    "getMe", bot.botInfo);
  // grammY drops pending updates (deleteWebhook) before it polls: send only
  // once it has, or the first message can be dropped with them.
  let polled;
  const polling_started = new Promise((r) => { polled = r; });
  const polling = bot.start({ drop_pending_updates: true, onStart: () => polled() });
  await polling_started;

  const [, chat] = await api("POST", "/api/chats/direct", aToken, { user_id: made.bot.id });
  const chatId = chat.id;
  const history = async () => (await api("GET", `/api/chats/${chatId}/messages?limit=50`, aToken))[1].messages;

  // echo, through grammY's own long-polling loop
  await api("POST", `/api/chats/${chatId}/messages`, aToken, { text: "hi grammy" });
  await until(async () => (await history()).some((m) => m.sender_id === made.bot.id && m.text === "echo: hi grammy"),
    "the echo");

  // inline keyboard pressed by the customer
  const sent = await patiently(() => bot.api.sendMessage(aId, "choose",
    { reply_markup: new InlineKeyboard().text("Red", "red").url("Docs", "https://example.com") }));
  check(sent.reply_markup.inline_keyboard[0][1].url === "https://example.com", "url button", sent);
  const [ps] = await api("POST", `/api/chats/${chatId}/messages/${sent.message_id}/press`, aToken, { data: "red" });
  check(ps === 202, "press", ps);
  await until(async () => (await history()).some((m) => m.seq === sent.message_id && m.text === "you chose red"),
    "the edited keyboard message");
  check(seen.callbacks.length === 1 && seen.callbacks[0].from.id === aId, "callback", seen.callbacks);

  // an edited message
  const [, m] = await api("POST", `/api/chats/${chatId}/messages`, aToken, { text: "colour" });
  await api("PATCH", `/api/chats/${chatId}/messages/${m.message.seq}`, aToken, { text: "color" });
  await until(() => seen.edits.length === 1, "edited_message");
  check(seen.edits[0].text === "color" && seen.edits[0].message_id === m.message.seq, "edit", seen.edits);

  // an invoice paid by the customer
  await api("POST", "/api/admin/deposits", admin, { user_id: aId, amount_minor: 500000, idempotency_key: "grammy-deposit" });
  const before = (await api("GET", "/api/wallet", aToken))[1].available_minor;
  const inv = await patiently(() =>
    bot.api.sendInvoice(aId, "Book", "A good book", "order-42", "IRR", [{ label: "book", amount: 120000 }]));
  check(inv.invoice.total_amount === 120000, "invoice", inv);
  const invoiceId = (await history()).find((x) => x.seq === inv.message_id).payload.invoice.id;
  const [pst, pj] = await api("POST", `/api/bot-invoices/${invoiceId}/pay`, aToken, { confirm: true });
  check(pst === 202, "pay", pst, pj);
  await until(() => seen.paid.length === 1, "successful_payment");
  check(seen.paid[0].total_amount === 120000 && seen.paid[0].invoice_payload === "order-42", "paid", seen.paid);
  const after = (await api("GET", "/api/wallet", aToken))[1].available_minor;
  check(after === before - 120000, "the wallet paid once", before, after);

  await bot.stop();
  await polling;

  // a bad token: the library's own error
  const bad = new Bot(`${made.bot.id}:${"0".repeat(64)}`, { client: { apiRoot: base } });
  try {
    await bad.api.getMe();
    check(false, "a bad token is refused");
  } catch (e) {
    check(e instanceof GrammyError && e.error_code === 401, "401", String(e));
  }
  console.log("grammy_test: all checks passed");
}

main().catch((e) => { console.error(e); process.exit(1); });
