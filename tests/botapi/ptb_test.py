#!/usr/bin/python3
"""ptb_test.py - python-telegram-bot v13 (Debian's python3-python-telegram-bot,
a client nobody here wrote) drives SocialBank's Bot API: Bot(token,
base_url=http://127.0.0.1:PORT/bot).  Started by tests/integration/
test_botapi.c, which runs the server and logs two customers in; the
customers' side goes through the bank's own HTTP API.  Checks:
  - getMe, token form; an echo bot over getUpdates (a long poll that an
    arriving message answers early; offsets confirm);
  - an inline keyboard (callback data and a URL) pressed by the customer:
    callback_query, answerCallbackQuery, editMessageText, editMessageReplyMarkup;
  - an edited message (edited_message), reply keyboards, remove, chat action,
    getChat, getChatMember, deleteMessage;
  - a webhook bot: setWebhook with a secret token, updates POSTed to a local
    server with X-Telegram-Bot-Api-Secret-Token, getWebhookInfo, getUpdates
    refused while it is set (409), deleteWebhook;
  - an invoice paid by a customer: sendInvoice, the customer's confirm
    (the hold), pre_checkout_query, answerPreCheckoutQuery, successful_payment,
    and the wallets: the payer's down by the total, the bot's up by it; a
    refused invoice and one left unanswered past its deadline give the money back;
  - errors as PTB raises them: Unauthorized, BadRequest, Conflict, RetryAfter.
Exit 0 when every check passed; the first failure raises with its context.
Environment: SB_PORT, SB_ADMIN_TOKEN, SB_A_TOKEN, SB_A_ID, SB_B_TOKEN, SB_B_ID.
"""
import http.server
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
import warnings

warnings.filterwarnings("ignore")
from telegram import (Bot, InlineKeyboardButton, InlineKeyboardMarkup, KeyboardButton,  # noqa: E402
                      LabeledPrice, ReplyKeyboardMarkup, ReplyKeyboardRemove)
from telegram.error import BadRequest, Conflict, RetryAfter, Unauthorized  # noqa: E402

PORT = int(os.environ["SB_PORT"])
BASE = "http://127.0.0.1:%d" % PORT
ADMIN = os.environ["SB_ADMIN_TOKEN"]
A_TOKEN, A_ID = os.environ["SB_A_TOKEN"], int(os.environ["SB_A_ID"])
B_TOKEN, B_ID = os.environ["SB_B_TOKEN"], int(os.environ["SB_B_ID"])
BOUND_S = 20  # a bound on waits, not a speed claim (ASan on a loaded machine)


def check(cond, what, *context):
    if not cond:
        raise AssertionError("%s %s" % (what, " ".join(repr(c) for c in context)))


def api(method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if token:
        req.add_header("Authorization", "Bearer " + token)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=BOUND_S) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def patiently(call, *args, **kwargs):
    """Call again after retry_after when the per-chat rate limit says 429, as a careful bot does."""
    for _ in range(5):
        try:
            return call(*args, **kwargs)
        except RetryAfter as e:
            check(e.retry_after >= 1, "retry_after", e.retry_after)
            time.sleep(e.retry_after)
    return call(*args, **kwargs)


def new_bot(username):
    st, j = api("POST", "/api/admin/bots", ADMIN, {"username": username})
    check(st == 201, "create bot", st, j)
    token = j["token"]
    left, _, right = token.partition(":")
    check(left.isdigit() and int(left) == j["bot"]["id"] and len(right) == 64, "token form", token)
    return Bot(token, base_url=BASE + "/bot"), j["bot"]["id"]


def open_chat(token, bot_id):
    st, j = api("POST", "/api/chats/direct", token, {"user_id": bot_id})
    check(st in (200, 201), "open chat", st, j)
    return j["id"]


def say(token, chat, text):
    st, j = api("POST", "/api/chats/%d/messages" % chat, token, {"text": text})
    check(st == 201, "send", st, j)
    return j["message"]["seq"]


def last_messages(token, chat):
    st, j = api("GET", "/api/chats/%d/messages?limit=50" % chat, token)
    check(st == 200, "history", st, j)
    return j["messages"]


def wallet(token):
    st, j = api("GET", "/api/wallet", token)
    check(st == 200, "wallet", st, j)
    return j["available_minor"]


def echo_and_keyboards():
    bot, bot_id = new_bot("echoptbbot")
    me = bot.get_me()
    check(me.id == bot_id and me.is_bot and me.username == "echoptbbot", "getMe", me.to_dict())
    chat = open_chat(A_TOKEN, bot_id)

    # echo over getUpdates: the pending update comes at once even with a timeout
    say(A_TOKEN, chat, "hello bot")
    ups = bot.get_updates(timeout=5)
    check(len(ups) == 1, "one update", [u.to_dict() for u in ups])
    m = ups[0].message
    check(m.text == "hello bot" and m.chat.type == "private" and m.chat.id == A_ID and m.from_user.id == A_ID
          and not m.from_user.is_bot and m.message_id > 0 and m.date.timestamp() > 1e9, "message", m.to_dict())
    check(m.from_user.to_dict().get("phone_number") is None and "phone" not in json.dumps(m.to_dict()),
          "no phone number reaches a bot", m.to_dict())
    sent = bot.send_message(chat_id=m.chat.id, text=m.text)
    check(sent.text == "hello bot" and sent.from_user.id == bot_id and sent.chat.id == A_ID, "echo", sent.to_dict())
    hist = last_messages(A_TOKEN, chat)
    check(hist[-1]["text"] == "hello bot" and hist[-1]["sender_id"] == bot_id, "customer sees the echo", hist[-1])
    offset = ups[0].update_id + 1
    check(bot.get_updates(offset=offset, timeout=0) == [], "confirmed updates are gone")

    # a long poll parked on the server, answered by the customer's message
    got = {}

    def poll():
        started = time.monotonic()
        got["ups"] = bot.get_updates(offset=offset, timeout=BOUND_S)
        got["s"] = time.monotonic() - started
    t = threading.Thread(target=poll)
    t.start()
    time.sleep(1.0)
    check(t.is_alive(), "the long poll waits while there is nothing")
    say(A_TOKEN, chat, "ping")
    t.join(BOUND_S + 5)
    check(not t.is_alive() and len(got["ups"]) == 1 and got["ups"][0].message.text == "ping",
          "the long poll answered by the update", got)
    check(got["s"] < BOUND_S, "answered before its timeout", got)
    offset = got["ups"][0].update_id + 1

    # an empty long poll ends at its timeout with []
    started = time.monotonic()
    check(bot.get_updates(offset=offset, timeout=1) == [], "empty poll")
    check(time.monotonic() - started >= 0.9, "the poll waited its timeout")

    # inline keyboard: callback data and a URL
    kb = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes"),
                                InlineKeyboardButton("Site", url="https://example.com/x")]])
    pick = patiently(bot.send_message, chat_id=A_ID, text="pick one", reply_markup=kb)
    check(pick.reply_markup.inline_keyboard[0][0].callback_data == "yes"
          and pick.reply_markup.inline_keyboard[0][1].url == "https://example.com/x", "keyboard", pick.to_dict())
    st, j = api("POST", "/api/chats/%d/messages/%d/press" % (chat, pick.message_id), A_TOKEN, {"data": "yes"})
    check(st == 202, "press", st, j)
    ups = bot.get_updates(offset=offset, timeout=5)
    check(len(ups) == 1 and ups[0].callback_query is not None, "callback update", [u.to_dict() for u in ups])
    cq = ups[0].callback_query
    check(cq.data == "yes" and cq.from_user.id == A_ID and cq.message.message_id == pick.message_id
          and cq.message.chat.id == A_ID, "callback_query", cq.to_dict())
    check(bot.answer_callback_query(cq.id, text="noted") is True, "answerCallbackQuery")
    try:
        bot.answer_callback_query("999999", text="x")
        check(False, "an unknown callback query is refused")
    except BadRequest as e:
        check("query id is invalid" in e.message.lower(), "callback error", e.message)
    edited = bot.edit_message_text(chat_id=A_ID, message_id=pick.message_id, text="you picked yes")
    check(edited.text == "you picked yes" and edited.reply_markup is None and edited.edit_date is not None,
          "editMessageText", edited.to_dict())
    again = bot.edit_message_reply_markup(chat_id=A_ID, message_id=pick.message_id,
                                          reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("Again", callback_data="again")]]))
    check(again.reply_markup.inline_keyboard[0][0].callback_data == "again", "editMessageReplyMarkup", again.to_dict())
    offset = ups[0].update_id + 1

    # an edited message from the customer
    seq = say(A_TOKEN, chat, "typo")
    st, j = api("PATCH", "/api/chats/%d/messages/%d" % (chat, seq), A_TOKEN, {"text": "fixed"})
    check(st == 200, "customer edit", st, j)
    ups = bot.get_updates(offset=offset, timeout=5)
    check(len(ups) == 2 and ups[0].message.text == "typo" and ups[1].edited_message is not None
          and ups[1].edited_message.text == "fixed" and ups[1].edited_message.message_id == seq
          and ups[1].edited_message.edit_date is not None, "edited_message", [u.to_dict() for u in ups])
    offset = ups[1].update_id + 1

    # allowed_updates filters kinds
    say(A_TOKEN, chat, "filtered out")
    check(bot.get_updates(offset=offset, timeout=0, allowed_updates=["callback_query"]) == [], "allowed_updates")
    bot.get_updates(offset=offset, timeout=0, allowed_updates=[])  # back to every kind

    # a phone number reaches a bot only when the customer shares it (a request_contact button)
    share = patiently(bot.send_message, chat_id=A_ID, text="share?", reply_markup=ReplyKeyboardMarkup(
        [[KeyboardButton("Share my number", request_contact=True)]], one_time_keyboard=True))
    check(share.text == "share?", "request_contact keyboard", share.to_dict())
    st, j = api("POST", "/api/chats/%d/contact" % chat, A_TOKEN)
    check(st == 202 and j["shared_with"] == [bot_id], "share contact", st, j)
    ups = bot.get_updates(offset=offset, timeout=5)
    contact = [u.message.contact for u in ups if u.message and u.message.contact]
    check(len(contact) == 1 and contact[0].user_id == A_ID and contact[0].phone_number.startswith("+98"),
          "contact", [u.to_dict() for u in ups])
    offset = ups[-1].update_id + 1
    st, j = api("POST", "/api/chats/%d/contact" % chat, B_TOKEN)
    check(st == 404, "only a member shares into a chat", st, j)

    # reply keyboards, chat action, chats, members, delete
    rk = patiently(bot.send_message, chat_id=A_ID, text="menu", reply_markup=ReplyKeyboardMarkup([["A", "B"], ["C"]]))
    check(rk.text == "menu", "reply keyboard", rk.to_dict())
    rm = patiently(bot.send_message, chat_id=A_ID, text="bye menu", reply_markup=ReplyKeyboardRemove())
    check(rm.text == "bye menu", "remove keyboard", rm.to_dict())
    check(bot.send_chat_action(chat_id=A_ID, action="typing") is True, "sendChatAction")
    c = bot.get_chat(A_ID)
    check(c.id == A_ID and c.type == "private", "getChat", c.to_dict())
    member = bot.get_chat_member(A_ID, A_ID)
    check(member.status == "member" and member.user.id == A_ID, "getChatMember", member.to_dict())
    check(bot.delete_message(chat_id=A_ID, message_id=rm.message_id) is True, "deleteMessage")
    try:
        bot.delete_message(chat_id=A_ID, message_id=999999)
        check(False, "deleting a missing message fails")
    except BadRequest as e:
        check("not found" in e.message.lower(), "delete error", e.message)

    # a user who never opened a chat with the bot cannot be written to
    try:
        bot.send_message(chat_id=B_ID, text="spam")
        check(False, "a bot cannot start a conversation")
    except Unauthorized as e:
        check("initiate" in e.message.lower(), "Forbidden message", e.message)
    try:
        bot.send_message(chat_id=-987654, text="x")
        check(False, "an unknown group")
    except BadRequest as e:
        check("chat not found" in e.message.lower(), "chat not found", e.message)

    # rate limit per chat: a burst is allowed, then 429 with retry_after
    limited = None
    for i in range(10):
        try:
            bot.send_message(chat_id=A_ID, text="burst %d" % i)
        except RetryAfter as e:
            limited = e
            break
    check(limited is not None and limited.retry_after >= 1, "per-chat rate limit gives RetryAfter")

    # a bad token is Unauthorized
    try:
        Bot("%03d:%s" % (bot_id, "0" * 64), base_url=BASE + "/bot").get_me()
        check(False, "a wrong secret is refused")
    except Unauthorized:
        pass
    return bot, bot_id, chat


class Hook(http.server.BaseHTTPRequestHandler):
    received = []
    status = 200

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        Hook.received.append((self.headers.get("X-Telegram-Bot-Api-Secret-Token"), json.loads(body)))
        self.send_response(Hook.status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def webhook_bot():
    bot, bot_id = new_bot("hookptbbot")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = "http://127.0.0.1:%d/hook" % server.server_address[1]
    chat = open_chat(A_TOKEN, bot_id)
    try:
        check(bot.set_webhook(url=url, secret_token="s3cret_Token-1") is True, "setWebhook")
        info = bot.get_webhook_info()
        check(info.url == url and info.pending_update_count == 0, "getWebhookInfo", info.to_dict())
        try:
            bot.get_updates()
            check(False, "getUpdates while a webhook is set")
        except Conflict:
            pass
        say(A_TOKEN, chat, "to the hook")
        deadline = time.monotonic() + BOUND_S
        while not Hook.received and time.monotonic() < deadline:
            time.sleep(0.1)
        check(len(Hook.received) == 1, "one POST", Hook.received)
        secret, update = Hook.received[0]
        check(secret == "s3cret_Token-1" and update["message"]["text"] == "to the hook"
              and update["message"]["chat"]["id"] == A_ID, "webhook update", Hook.received[0])
        # a failing webhook: retried, then the error is shown and the update kept
        Hook.status = 500
        say(A_TOKEN, chat, "while down")
        deadline = time.monotonic() + BOUND_S
        info = bot.get_webhook_info()
        while not info.last_error_message and time.monotonic() < deadline:
            time.sleep(0.2)
            info = bot.get_webhook_info()
        check(info.last_error_message and "500" in info.last_error_message and info.pending_update_count == 1,
              "the webhook's error", info.to_dict())
        Hook.status = 200
        check(bot.delete_webhook() is True, "deleteWebhook")
        ups = bot.get_updates(timeout=0)
        check(len(ups) == 1 and ups[0].message.text == "while down", "undelivered update kept", [u.to_dict() for u in ups])
    finally:
        server.shutdown()


def invoices():
    bot, bot_id = new_bot("shopptbbot")
    chat = open_chat(A_TOKEN, bot_id)
    st, j = api("POST", "/api/admin/deposits", ADMIN, {"user_id": A_ID, "amount_minor": 1000000,
                                                        "idempotency_key": "botapi-test-deposit"})
    check(st in (200, 201), "deposit", st, j)
    before_a = wallet(A_TOKEN)

    def invoice(title, amounts):
        prices = [LabeledPrice("item %d" % i, a) for i, a in enumerate(amounts)]
        m = patiently(bot.send_invoice, chat_id=A_ID, title=title, description="Two coffees", payload="order-" + title,
                             provider_token="", currency="IRR", prices=prices)
        check(m.invoice is not None and m.invoice.total_amount == sum(amounts) and m.invoice.currency == "IRR",
              "invoice message", m.to_dict())
        hist = last_messages(A_TOKEN, chat)
        inv_id = hist[-1]["payload"]["invoice"]["id"]
        st, j = api("GET", "/api/bot-invoices/%d" % inv_id, A_TOKEN)
        check(st == 200 and j["invoice"]["total_minor"] == sum(amounts) and j["invoice"]["state"] == "open",
              "the customer sees the invoice", st, j)
        st, j = api("GET", "/api/bot-invoices/%d" % inv_id, B_TOKEN)
        check(st == 404, "a non-member does not", st, j)
        return inv_id

    def pay(inv_id):
        st, j = api("POST", "/api/bot-invoices/%d/pay" % inv_id, A_TOKEN, {"confirm": True})
        check(st == 202 and j["invoice"]["state"] == "checkout", "confirm", st, j)
        return j

    offset = 0
    # approved: the hold is posted into the bot's wallet
    inv = invoice("coffee", [30000, 20000])
    pay(inv)
    check(wallet(A_TOKEN) == before_a - 50000, "held money is not available", wallet(A_TOKEN))
    ups = bot.get_updates(timeout=5, allowed_updates=["message", "pre_checkout_query"])
    q = [u for u in ups if u.pre_checkout_query]
    check(len(q) == 1 and q[0].pre_checkout_query.total_amount == 50000
          and q[0].pre_checkout_query.invoice_payload == "order-coffee"
          and q[0].pre_checkout_query.from_user.id == A_ID, "pre_checkout_query", [u.to_dict() for u in ups])
    offset = ups[-1].update_id + 1
    check(bot.answer_pre_checkout_query(q[0].pre_checkout_query.id, ok=True) is True, "answerPreCheckoutQuery")
    ups = bot.get_updates(offset=offset, timeout=5)
    paid = [u for u in ups if u.message and u.message.successful_payment]
    check(len(paid) == 1 and paid[0].message.successful_payment.total_amount == 50000
          and paid[0].message.successful_payment.invoice_payload == "order-coffee", "successful_payment",
          [u.to_dict() for u in ups])
    offset = ups[-1].update_id + 1
    st, j = api("GET", "/api/bot-invoices/%d" % inv, A_TOKEN)
    check(j["invoice"]["state"] == "paid", "paid", j)
    check(wallet(A_TOKEN) == before_a - 50000, "payer paid once", wallet(A_TOKEN))
    st, j = api("POST", "/api/bot-invoices/%d/pay" % inv, A_TOKEN, {"confirm": True})
    check(st == 409, "an invoice is paid once", st, j)
    try:
        bot.answer_pre_checkout_query(q[0].pre_checkout_query.id, ok=True)
        check(False, "a query is answered once")
    except BadRequest:
        pass

    # refused by the bot: the hold is voided
    inv2 = invoice("tea", [7000])
    pay(inv2)
    check(wallet(A_TOKEN) == before_a - 57000, "tea held", wallet(A_TOKEN))
    ups = bot.get_updates(offset=offset, timeout=5)
    q = [u for u in ups if u.pre_checkout_query]
    check(len(q) == 1, "second query", [u.to_dict() for u in ups])
    offset = ups[-1].update_id + 1
    check(bot.answer_pre_checkout_query(q[0].pre_checkout_query.id, ok=False, error_message="sold out") is True,
          "refuse")
    check(wallet(A_TOKEN) == before_a - 50000, "refused: money back", wallet(A_TOKEN))
    st, j = api("GET", "/api/bot-invoices/%d" % inv2, A_TOKEN)
    check(j["invoice"]["state"] == "refused", "refused", j)

    # no answer in time: the sweep voids the hold
    inv3 = invoice("cake", [9000])
    pay(inv3)
    check(wallet(A_TOKEN) == before_a - 59000, "cake held", wallet(A_TOKEN))
    deadline = time.monotonic() + 10 + BOUND_S
    seen = {"state": "checkout", "settled": True}
    while not (seen["state"] == "expired" and seen["settled"]) and time.monotonic() < deadline:
        time.sleep(0.5)
        seen = api("GET", "/api/bot-invoices/%d" % inv3, A_TOKEN)[1]["invoice"]
    check(seen["state"] == "expired" and seen["settled"], "unanswered: expired, hold voided", seen)
    check(wallet(A_TOKEN) == before_a - 50000, "expired: money back", wallet(A_TOKEN))
    ups = bot.get_updates(offset=offset, timeout=0)
    q = [u for u in ups if u.pre_checkout_query]
    try:
        bot.answer_pre_checkout_query(q[0].pre_checkout_query.id, ok=True)
        check(False, "too late")
    except BadRequest as e:
        check("too old" in e.message.lower(), "late answer", e.message)
    check(wallet(A_TOKEN) == before_a - 50000, "a late answer moves nothing", wallet(A_TOKEN))

    # staff refund
    st, j = api("POST", "/api/admin/bot-invoices/%d/refund" % inv, ADMIN)
    check(st == 200 and j["invoice"]["state"] == "refunded", "refund", st, j)
    check(wallet(A_TOKEN) == before_a, "refunded", wallet(A_TOKEN))
    st, j = api("POST", "/api/admin/bot-invoices/%d/refund" % inv, ADMIN)
    check(st == 409, "refunded once", st, j)
    # the ledger check is a job: start it, poll it (bounded) until it ends
    st, j = api("POST", "/api/admin/ledger/verify", ADMIN)
    check(st == 202 and j["job_id"] > 0, "ledger verify job", st, j)
    job = j["job_id"]
    for _ in range(600):
        st, j = api("GET", "/api/admin/ledger/verify/%d" % job, ADMIN)
        if st != 200 or j["state"] != "running":
            break
        time.sleep(0.05)
    check(st == 200 and j["state"] == "done" and j["result"]["ok"], "the ledger balances", st, j)
    return bot_id


def main():
    echo_and_keyboards()
    webhook_bot()
    invoices()
    print("ptb_test: all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
