-- 0450: the state of the Telegram-shaped Bot API of each bot
-- (src/messenger/messenger_botapi.c).  Updates themselves stay in
-- msg_bot_updates (0420); a bot's getUpdates offset, or its webhook's
-- successful deliveries, confirm them: confirmed_id is the lowest update id
-- not yet confirmed.  The webhook (http:// URL, secret token sent back in
-- X-Telegram-Bot-Api-Secret-Token), the kinds of update the bot asked for
-- with allowed_updates (a bit mask of the api's update kinds; 0: every kind),
-- and the last delivery error as getWebhookInfo reports it.
CREATE TABLE msg_botapi_state (
    bot_id INTEGER PRIMARY KEY REFERENCES msg_bots(user_id) ON DELETE CASCADE,
    confirmed_id INTEGER NOT NULL DEFAULT 0 CHECK (confirmed_id >= 0),
    webhook_url TEXT NOT NULL DEFAULT '',
    secret_token TEXT NOT NULL DEFAULT '',
    allowed_updates INTEGER NOT NULL DEFAULT 0 CHECK (allowed_updates >= 0),
    last_error_at_ms INTEGER NOT NULL DEFAULT 0,
    last_error_message TEXT NOT NULL DEFAULT ''
) STRICT;
