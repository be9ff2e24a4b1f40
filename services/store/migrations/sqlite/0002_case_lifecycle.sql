-- Cases per conversation with a lifecycle, teams, agents with skills,
-- capacity and presence, SLA clocks, escalations and an outbox. (SQLite form:
-- timestamps are fixed-width UTC text, JSON columns hold JSON text.)
--
-- A case belongs to one conversation: (account, thread, customer). Its posts
-- are rows of case_messages (unique per account and post, so a post seen
-- twice still joins one case); at most one case per conversation is active
-- (not resolved or closed).

ALTER TABLE agents ADD COLUMN capacity INTEGER NULL CHECK (capacity IS NULL OR capacity >= 0);
ALTER TABLE agents ADD COLUMN languages TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN topics TEXT NOT NULL DEFAULT '[]';
ALTER TABLE agents ADD COLUMN presence TEXT NOT NULL DEFAULT 'online'
    CHECK (presence IN ('online', 'away', 'offline'));
ALTER TABLE agents ADD COLUMN presence_at TEXT NULL;
-- Ticket of the agent's last assignment: the lowest is the longest idle.
ALTER TABLE agents ADD COLUMN last_assigned_seq INTEGER NULL;
ALTER TABLE agents ADD COLUMN last_assigned_at TEXT NULL;

CREATE TABLE teams (
    account_id  TEXT        NOT NULL,
    name        TEXT        NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
) STRICT;

CREATE TABLE team_members (
    account_id  TEXT NOT NULL,
    team        TEXT NOT NULL,
    agent       TEXT NOT NULL,
    PRIMARY KEY (account_id, team, agent),
    CONSTRAINT team_members_team_fk FOREIGN KEY (account_id, team)
        REFERENCES teams (account_id, name) ON DELETE CASCADE,
    CONSTRAINT team_members_agent_fk FOREIGN KEY (account_id, agent)
        REFERENCES agents (account_id, name)
) STRICT;

-- The priority level: 0 low, 1 normal, 2 high, 3 urgent.
ALTER TABLE cases ADD COLUMN level INTEGER NOT NULL DEFAULT 1;
-- The team whose queue holds the case; NULL is the account's general queue.
ALTER TABLE cases ADD COLUMN team TEXT NULL;
ALTER TABLE cases ADD COLUMN last_message_at TEXT NULL;
ALTER TABLE cases ADD COLUMN message_count INTEGER NOT NULL DEFAULT 1;
ALTER TABLE cases ADD COLUMN assigned_at TEXT NULL;
ALTER TABLE cases ADD COLUMN agent_acted_at TEXT NULL;
ALTER TABLE cases ADD COLUMN resolved_at TEXT NULL;
ALTER TABLE cases ADD COLUMN closed_at TEXT NULL;
ALTER TABLE cases ADD COLUMN first_response_at TEXT NULL;
-- The running SLA clock: which target, when it is due; while the case waits
-- on the customer the clock is paused with the business seconds it had left.
ALTER TABLE cases ADD COLUMN sla_target TEXT NULL
    CHECK (sla_target IS NULL OR sla_target IN ('first_response', 'next_response'));
ALTER TABLE cases ADD COLUMN sla_due_at TEXT NULL;
ALTER TABLE cases ADD COLUMN sla_paused_secs INTEGER NULL;
-- Bumped each time a new target starts, so escalations fire once per target.
ALTER TABLE cases ADD COLUMN sla_round INTEGER NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN sla_breached_at TEXT NULL;
-- Optimistic concurrency for callers that read, decide, then write.
ALTER TABLE cases ADD COLUMN version INTEGER NOT NULL DEFAULT 0;
-- Cases opened before this migration may share a conversation; all but the
-- newest active one are marked so the uniqueness below holds.
ALTER TABLE cases ADD COLUMN superseded INTEGER NOT NULL DEFAULT 0;

UPDATE cases SET last_message_at = opened_at;
UPDATE cases SET superseded = 1
WHERE status NOT IN ('resolved', 'closed')
  AND EXISTS (
      SELECT 1 FROM cases newer
      WHERE newer.account_id = cases.account_id
        AND newer.thread_id = cases.thread_id
        AND newer.author_handle = cases.author_handle
        AND newer.status NOT IN ('resolved', 'closed')
        AND newer.id > cases.id);

CREATE UNIQUE INDEX cases_one_active_per_conversation
    ON cases (account_id, thread_id, author_handle)
    WHERE status NOT IN ('resolved', 'closed') AND NOT superseded;
CREATE INDEX cases_by_conversation ON cases (account_id, thread_id, author_handle);
CREATE INDEX cases_hold_queue ON cases (account_id, level DESC, sla_due_at, priority DESC, opened_at, id)
    WHERE status = 'queued';
CREATE INDEX cases_sla_clock ON cases (account_id, sla_due_at) WHERE sla_due_at IS NOT NULL;

CREATE TABLE case_messages (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id     TEXT        NOT NULL,
    case_id        INTEGER      NOT NULL,
    post_id        TEXT        NOT NULL,
    author_handle  TEXT        NOT NULL,
    intent         TEXT        NOT NULL,
    text_excerpt   TEXT        NOT NULL,
    at             TEXT NOT NULL,
    received_at    TEXT NOT NULL,
    -- A post belongs to one case, however often it is delivered.
    CONSTRAINT case_messages_one_per_post UNIQUE (account_id, post_id),
    CONSTRAINT case_messages_case_fk FOREIGN KEY (account_id, case_id)
        REFERENCES cases (account_id, id)
) STRICT;

CREATE INDEX case_messages_by_case ON case_messages (account_id, case_id, at, id);

INSERT INTO case_messages (account_id, case_id, post_id, author_handle, intent, text_excerpt, at, received_at)
SELECT account_id, id, post_id, author_handle, intent, text_excerpt, opened_at, updated_at
FROM cases
ORDER BY id;

-- Escalation rules that fired: at most once per case, SLA round and rule.
CREATE TABLE case_escalations (
    account_id  TEXT        NOT NULL,
    case_id     INTEGER      NOT NULL,
    sla_round   INTEGER      NOT NULL,
    rule        TEXT        NOT NULL,
    fired_at    TEXT NOT NULL,
    PRIMARY KEY (account_id, case_id, sla_round, rule),
    CONSTRAINT case_escalations_case_fk FOREIGN KEY (account_id, case_id)
        REFERENCES cases (account_id, id)
) STRICT;

-- Messages to send to other systems (webhooks), written in the transaction
-- that decided them and delivered later, at least once.
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id       TEXT        NOT NULL,
    case_id          INTEGER      NULL,
    kind             TEXT        NOT NULL,
    destination      TEXT        NOT NULL,
    payload          TEXT       NOT NULL,
    created_at       TEXT NOT NULL,
    attempts         INTEGER      NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    delivered_at     TEXT NULL,
    last_error       TEXT        NULL
) STRICT;

CREATE INDEX outbox_pending ON outbox (account_id, next_attempt_at) WHERE delivered_at IS NULL;

-- One row per account, locked by every transaction that routes cases, so
-- routing decisions of one account never interleave. Pulling a next case does
-- not take it (it skips locked rows instead).
CREATE TABLE routing_locks (
    account_id  TEXT PRIMARY KEY
) STRICT;

-- Community settings of an account (routing rules, SLA policies, windows) as
-- the community crate's JSON document, so every process reads the same.
CREATE TABLE community_settings (
    account_id  TEXT        PRIMARY KEY,
    settings    TEXT       NOT NULL,
    updated_at  TEXT NOT NULL
) STRICT;
