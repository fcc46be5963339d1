-- 0410: the inbox of every bot (src/messenger/messenger_bots.c): each event
-- addressed to a bot (a message in a chat it is in, a button pressed on its
-- keyboard...) as the JSON text messenger_event_render gives, numbered so
-- that a bot reads GET /api/bot/updates?after=N and never misses or repeats
-- one.  Bounded: only the newest SB_MESSENGER_BOT_UPDATES_KEPT per bot stay.
CREATE TABLE msg_bot_updates (
    id INTEGER PRIMARY KEY,
    bot_id INTEGER NOT NULL REFERENCES msg_bots(user_id) ON DELETE CASCADE,
    event_json TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX msg_bot_updates_bot ON msg_bot_updates(bot_id, id);
