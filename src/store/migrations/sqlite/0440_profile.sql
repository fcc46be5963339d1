-- 0440: a customer's profile and how others may find them.
-- users.language: the interface language ('fa', 'uk', 'ru', 'en'), NULL until
-- chosen (the apps then follow the browser); users.time_zone: an IANA name
-- ("Asia/Tehran"), NULL for the device's own.  msg_settings gains the two
-- halves of "discoverable": by phone number and by @username, each chosen at
-- sign-up and changeable; an existing discoverable user stays findable both
-- ways, and `discoverable` stays true exactly when either is.
ALTER TABLE users ADD COLUMN language TEXT CHECK (language IS NULL OR language IN ('fa', 'uk', 'ru', 'en'));
ALTER TABLE users ADD COLUMN time_zone TEXT CHECK (time_zone IS NULL OR length(time_zone) BETWEEN 1 AND 64);
ALTER TABLE msg_settings ADD COLUMN by_phone INTEGER NOT NULL DEFAULT 0 CHECK (by_phone IN (0, 1));
ALTER TABLE msg_settings ADD COLUMN by_username INTEGER NOT NULL DEFAULT 0 CHECK (by_username IN (0, 1));
UPDATE msg_settings SET by_phone = discoverable, by_username = discoverable;
