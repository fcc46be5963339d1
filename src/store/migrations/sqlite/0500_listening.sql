-- 0500: listening - posts about the bank from social networks and the bank's
-- own channels, what the text engine understood of them, analysts'
-- corrections, cases routed to departments with business-hour deadlines,
-- reputation statistics, alerts, consents and leads.
--
-- Privacy: `text` is the redacted text analysts see; `raw_sealed` (nonce ||
-- secretbox) exists only when the bank turns raw storage on.  Everything
-- derived from a post hangs off it with ON DELETE CASCADE, so erasing an
-- author is deleting their posts and cases (listening_erase_author).

CREATE TABLE listening_posts (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    author TEXT NOT NULL,
    author_reach INTEGER NOT NULL CHECK (author_reach >= 0),
    posted_at_ms INTEGER NOT NULL,
    text TEXT NOT NULL,
    raw_sealed BLOB,
    redactions INTEGER NOT NULL DEFAULT 0 CHECK (redactions >= 0),
    likes INTEGER NOT NULL DEFAULT 0 CHECK (likes >= 0),
    shares INTEGER NOT NULL DEFAULT 0 CHECK (shares >= 0),
    replies INTEGER NOT NULL DEFAULT 0 CHECK (replies >= 0),
    ingested_at_ms INTEGER NOT NULL,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (source, external_id)
) STRICT;
CREATE INDEX listening_posts_author ON listening_posts(source, author);
CREATE INDEX listening_posts_time ON listening_posts(posted_at_ms);

-- What the model said (one row per post; replaced when re-understood).
CREATE TABLE listening_understanding (
    post_id INTEGER PRIMARY KEY REFERENCES listening_posts(id) ON DELETE CASCADE,
    lang TEXT NOT NULL,
    sentiment TEXT NOT NULL CHECK (sentiment IN ('positive', 'negative', 'neutral')),
    sentiment_permille INTEGER NOT NULL CHECK (sentiment_permille BETWEEN 0 AND 1000),
    kind TEXT NOT NULL CHECK (kind IN ('complaint', 'suggestion', 'question', 'praise', 'other')),
    kind_permille INTEGER NOT NULL CHECK (kind_permille BETWEEN 0 AND 1000),
    topic TEXT NOT NULL,
    topic_permille INTEGER NOT NULL CHECK (topic_permille BETWEEN 0 AND 1000),
    model TEXT NOT NULL DEFAULT ''
) STRICT;

-- Risks, life events (only for consenting customers) and competitor mentions.
CREATE TABLE listening_signals (
    post_id INTEGER NOT NULL REFERENCES listening_posts(id) ON DELETE CASCADE,
    kind TEXT NOT NULL CHECK (kind IN ('risk', 'life_event', 'competitor')),
    name TEXT NOT NULL,
    permille INTEGER NOT NULL CHECK (permille BETWEEN 0 AND 1000),
    trigger_words TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (post_id, kind, name)
) STRICT;
CREATE INDEX listening_signals_name ON listening_signals(kind, name);

-- Analysts' corrections: the newest per (post, head) wins over the model.
CREATE TABLE listening_corrections (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES listening_posts(id) ON DELETE CASCADE,
    head TEXT NOT NULL CHECK (head IN ('sentiment', 'kind', 'topic')),
    label TEXT NOT NULL,
    corrected_by TEXT NOT NULL,
    corrected_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX listening_corrections_post ON listening_corrections(post_id, head, id);

-- The labels every other query uses: a correction wins, else the model.
CREATE VIEW listening_effective AS
SELECT p.id AS post_id, p.source, p.author, p.author_reach, p.posted_at_ms, p.text, u.lang,
       COALESCE((SELECT c.label FROM listening_corrections c WHERE c.post_id = p.id AND c.head = 'sentiment'
                 ORDER BY c.id DESC LIMIT 1), u.sentiment) AS sentiment,
       CASE WHEN EXISTS (SELECT 1 FROM listening_corrections c WHERE c.post_id = p.id AND c.head = 'sentiment')
            THEN 1000 ELSE u.sentiment_permille END AS sentiment_permille,
       COALESCE((SELECT c.label FROM listening_corrections c WHERE c.post_id = p.id AND c.head = 'kind'
                 ORDER BY c.id DESC LIMIT 1), u.kind) AS kind,
       CASE WHEN EXISTS (SELECT 1 FROM listening_corrections c WHERE c.post_id = p.id AND c.head = 'kind')
            THEN 1000 ELSE u.kind_permille END AS kind_permille,
       COALESCE((SELECT c.label FROM listening_corrections c WHERE c.post_id = p.id AND c.head = 'topic'
                 ORDER BY c.id DESC LIMIT 1), u.topic) AS topic,
       CASE WHEN EXISTS (SELECT 1 FROM listening_corrections c WHERE c.post_id = p.id AND c.head = 'topic')
            THEN 1000 ELSE u.topic_permille END AS topic_permille
FROM listening_posts p JOIN listening_understanding u ON u.post_id = p.id;

-- ---- departments, business hours, priorities ------------------------------
CREATE TABLE listening_departments (
    name TEXT PRIMARY KEY,
    utc_offset_minutes INTEGER NOT NULL CHECK (utc_offset_minutes BETWEEN -840 AND 840),
    -- An assigned agent who has not replied in this many minutes loses the case.
    reassign_after_minutes INTEGER NOT NULL CHECK (reassign_after_minutes > 0)
) STRICT;

-- Opening periods in local time: weekday 0 = Sunday .. 6 = Saturday, minutes from midnight.
CREATE TABLE listening_department_hours (
    department TEXT NOT NULL REFERENCES listening_departments(name) ON DELETE CASCADE,
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    start_minute INTEGER NOT NULL CHECK (start_minute BETWEEN 0 AND 1439),
    end_minute INTEGER NOT NULL CHECK (end_minute BETWEEN 1 AND 1440),
    CHECK (start_minute < end_minute),
    PRIMARY KEY (department, weekday, start_minute)
) STRICT;

CREATE TABLE listening_agents (
    department TEXT NOT NULL REFERENCES listening_departments(name) ON DELETE CASCADE,
    agent TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    PRIMARY KEY (department, agent)
) STRICT;

-- Response budget in business minutes per priority.
CREATE TABLE listening_priorities (
    priority TEXT PRIMARY KEY CHECK (priority IN ('urgent', 'high', 'normal', 'low')),
    rank INTEGER NOT NULL UNIQUE,
    budget_minutes INTEGER NOT NULL CHECK (budget_minutes > 0)
) STRICT;
INSERT INTO listening_priorities VALUES ('urgent', 3, 60), ('high', 2, 240), ('normal', 1, 480), ('low', 0, 1440);

-- ---- rules ---------------------------------------------------------------
-- A NULL condition matches anything; every label condition that is set must
-- also reach min_permille (a correction counts as 1000).
CREATE TABLE listening_rules (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    enabled INTEGER NOT NULL DEFAULT 1 CHECK (enabled IN (0, 1)),
    kind TEXT,
    sentiment TEXT,
    topic TEXT,
    risk TEXT,
    source TEXT,
    min_permille INTEGER NOT NULL DEFAULT 0 CHECK (min_permille BETWEEN 0 AND 1000),
    priority TEXT NOT NULL REFERENCES listening_priorities(priority),
    updated_at_ms INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE TABLE listening_rule_departments (
    rule_id INTEGER NOT NULL REFERENCES listening_rules(id) ON DELETE CASCADE,
    department TEXT NOT NULL REFERENCES listening_departments(name),
    PRIMARY KEY (rule_id, department)
) STRICT;

-- ---- cases ---------------------------------------------------------------
CREATE TABLE listening_cases (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    author TEXT NOT NULL,
    topic TEXT NOT NULL,
    priority TEXT NOT NULL REFERENCES listening_priorities(priority),
    state TEXT NOT NULL CHECK (state IN ('open', 'acknowledged', 'waiting', 'resolved')),
    assignee TEXT,
    last_agent_activity_ms INTEGER,
    opened_at_ms INTEGER NOT NULL,
    last_post_at_ms INTEGER NOT NULL,
    resolved_at_ms INTEGER,
    reopen_count INTEGER NOT NULL DEFAULT 0,
    updated_at_ms INTEGER NOT NULL
) STRICT;
CREATE INDEX listening_cases_author ON listening_cases(source, author, topic, state);
CREATE INDEX listening_cases_state ON listening_cases(state, assignee);

-- One row per department a case is routed to: its own clock and deadline.
-- business_ms_used is the business time spent before the current run of the
-- clock; clock_started_ms is NULL while the clock is stopped (resolved).
CREATE TABLE listening_case_departments (
    case_id INTEGER NOT NULL REFERENCES listening_cases(id) ON DELETE CASCADE,
    department TEXT NOT NULL REFERENCES listening_departments(name),
    budget_ms INTEGER NOT NULL CHECK (budget_ms > 0),
    business_ms_used INTEGER NOT NULL DEFAULT 0 CHECK (business_ms_used >= 0),
    clock_started_ms INTEGER,
    deadline_ms INTEGER,
    escalation_level INTEGER NOT NULL DEFAULT 0 CHECK (escalation_level >= 0),
    -- The deadline the last escalation was for: one escalation per deadline.
    escalated_deadline_ms INTEGER,
    PRIMARY KEY (case_id, department)
) STRICT;
CREATE INDEX listening_case_departments_deadline ON listening_case_departments(deadline_ms);

CREATE TABLE listening_case_posts (
    case_id INTEGER NOT NULL REFERENCES listening_cases(id) ON DELETE CASCADE,
    post_id INTEGER NOT NULL REFERENCES listening_posts(id) ON DELETE CASCADE,
    PRIMARY KEY (case_id, post_id)
) STRICT;
CREATE INDEX listening_case_posts_post ON listening_case_posts(post_id);

-- Append-only history; rows go only with their case (erasure).
CREATE TABLE listening_case_events (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES listening_cases(id) ON DELETE CASCADE,
    at_ms INTEGER NOT NULL,
    actor TEXT NOT NULL,
    type TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX listening_case_events_case ON listening_case_events(case_id, id);
CREATE TRIGGER listening_case_events_append_only BEFORE UPDATE ON listening_case_events
BEGIN
    SELECT RAISE(ABORT, 'listening_case_events is append-only');
END;

-- Replies: for external networks the text to post; for messenger users the
-- messenger's hook delivers it (delivery = 'pending' until it does).
CREATE TABLE listening_replies (
    id INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES listening_cases(id) ON DELETE CASCADE,
    agent TEXT NOT NULL,
    text TEXT NOT NULL,
    channel TEXT NOT NULL CHECK (channel IN ('external', 'messenger')),
    delivery TEXT NOT NULL CHECK (delivery IN ('to_post', 'pending', 'delivered')),
    created_at_ms INTEGER NOT NULL
) STRICT;

-- ---- reputation ------------------------------------------------------------
-- Counts per hour and per day, per dimension value; maintained on ingest,
-- correction and erasure, recomputable from the posts.
CREATE TABLE listening_stats (
    granularity TEXT NOT NULL CHECK (granularity IN ('hour', 'day')),
    bucket_ms INTEGER NOT NULL,
    dimension TEXT NOT NULL CHECK (dimension IN ('all', 'source', 'topic', 'lang', 'competitor', 'risk')),
    value TEXT NOT NULL,
    posts INTEGER NOT NULL CHECK (posts >= 0),
    positive INTEGER NOT NULL CHECK (positive >= 0),
    negative INTEGER NOT NULL CHECK (negative >= 0),
    neutral INTEGER NOT NULL CHECK (neutral >= 0),
    PRIMARY KEY (granularity, bucket_ms, dimension, value)
) STRICT;

CREATE TABLE listening_alerts (
    id INTEGER PRIMARY KEY,
    metric TEXT NOT NULL,
    raised_at_ms INTEGER NOT NULL,
    last_exceeded_ms INTEGER NOT NULL,
    window_start_ms INTEGER NOT NULL,
    observed INTEGER NOT NULL,
    baseline_per_hour_milli INTEGER NOT NULL,
    baseline_hours INTEGER NOT NULL,
    p_value REAL NOT NULL,
    p_threshold REAL NOT NULL,
    min_count INTEGER NOT NULL,
    threshold_count INTEGER NOT NULL
) STRICT;
CREATE INDEX listening_alerts_metric ON listening_alerts(metric, last_exceeded_ms);

-- ---- consent and leads ---------------------------------------------------
CREATE TABLE listening_consents (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL,
    source TEXT NOT NULL,
    handle TEXT NOT NULL,
    consented_at_ms INTEGER NOT NULL,
    withdrawn_at_ms INTEGER
) STRICT;
CREATE INDEX listening_consents_handle ON listening_consents(source, handle);

CREATE TABLE listening_leads (
    id INTEGER PRIMARY KEY,
    post_id INTEGER NOT NULL REFERENCES listening_posts(id) ON DELETE CASCADE,
    customer_id INTEGER NOT NULL,
    life_event TEXT NOT NULL,
    offer TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL,
    UNIQUE (post_id, life_event)
) STRICT;

-- ---- defaults an admin edits later ----------------------------------------
-- Tehran time (+03:30); Saturday-Wednesday 08:00-12:00 and 13:00-16:00,
-- Thursday 08:00-12:00, Friday closed.
INSERT INTO listening_departments VALUES ('support', 210, 120), ('cards', 210, 240), ('legal', 210, 480),
    ('pr', 210, 120), ('risk', 210, 120);
INSERT INTO listening_department_hours
SELECT d.name, w.value, p.s, p.e
FROM listening_departments d,
     (SELECT 6 AS value UNION ALL SELECT 0 UNION ALL SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) w,
     (SELECT 480 AS s, 720 AS e UNION ALL SELECT 780, 960) p;
INSERT INTO listening_department_hours SELECT name, 4, 480, 720 FROM listening_departments;

INSERT INTO listening_rules(id, name, kind, sentiment, risk, min_permille, priority) VALUES
    (1, 'complaints', 'complaint', NULL, NULL, 600, 'normal'),
    (2, 'very negative', NULL, 'negative', NULL, 850, 'normal'),
    (3, 'card misuse', NULL, NULL, 'card_misuse', 0, 'urgent'),
    (4, 'insolvency rumour', NULL, NULL, 'insolvency_rumour', 0, 'urgent'),
    (5, 'threat to sue', NULL, NULL, 'threat_sue', 0, 'high'),
    (6, 'threat to leave', NULL, NULL, 'threat_leave', 0, 'high');
INSERT INTO listening_rule_departments VALUES (1, 'support'), (2, 'support'), (3, 'support'), (3, 'cards'),
    (3, 'legal'), (4, 'pr'), (4, 'risk'), (5, 'legal'), (6, 'support');
