-- Cases per conversation with a lifecycle, teams, agents with skills,
-- capacity and presence, SLA clocks, escalations and an outbox.
--
-- A case belongs to one conversation: (account, thread, customer). Its posts
-- are rows of case_messages (unique per account and post, so a post seen
-- twice still joins one case); at most one case per conversation is active
-- (not resolved or closed).

ALTER TABLE agents ADD COLUMN capacity BIGINT NULL CHECK (capacity IS NULL OR capacity >= 0);
ALTER TABLE agents ADD COLUMN languages JSONB NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE agents ADD COLUMN topics JSONB NOT NULL DEFAULT '[]'::jsonb;
ALTER TABLE agents ADD COLUMN presence TEXT NOT NULL DEFAULT 'online'
    CHECK (presence IN ('online', 'away', 'offline'));
ALTER TABLE agents ADD COLUMN presence_at TIMESTAMPTZ NULL;
-- Ticket of the agent's last assignment: the lowest is the longest idle.
ALTER TABLE agents ADD COLUMN last_assigned_seq BIGINT NULL;
ALTER TABLE agents ADD COLUMN last_assigned_at TIMESTAMPTZ NULL;

CREATE TABLE teams (
    account_id  TEXT        NOT NULL,
    name        TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, name)
);

CREATE TABLE team_members (
    account_id  TEXT NOT NULL,
    team        TEXT NOT NULL,
    agent       TEXT NOT NULL,
    PRIMARY KEY (account_id, team, agent),
    CONSTRAINT team_members_team_fk FOREIGN KEY (account_id, team)
        REFERENCES teams (account_id, name) ON DELETE CASCADE,
    CONSTRAINT team_members_agent_fk FOREIGN KEY (account_id, agent)
        REFERENCES agents (account_id, name)
);

-- The priority level: 0 low, 1 normal, 2 high, 3 urgent.
ALTER TABLE cases ADD COLUMN level BIGINT NOT NULL DEFAULT 1;
-- The team whose queue holds the case; NULL is the account's general queue.
ALTER TABLE cases ADD COLUMN team TEXT NULL;
ALTER TABLE cases ADD COLUMN last_message_at TIMESTAMPTZ NULL;
ALTER TABLE cases ADD COLUMN message_count BIGINT NOT NULL DEFAULT 1;
ALTER TABLE cases ADD COLUMN assigned_at TIMESTAMPTZ NULL;
ALTER TABLE cases ADD COLUMN agent_acted_at TIMESTAMPTZ NULL;
ALTER TABLE cases ADD COLUMN resolved_at TIMESTAMPTZ NULL;
ALTER TABLE cases ADD COLUMN closed_at TIMESTAMPTZ NULL;
ALTER TABLE cases ADD COLUMN first_response_at TIMESTAMPTZ NULL;
-- The running SLA clock: which target, when it is due; while the case waits
-- on the customer the clock is paused with the business seconds it had left.
ALTER TABLE cases ADD COLUMN sla_target TEXT NULL
    CHECK (sla_target IS NULL OR sla_target IN ('first_response', 'next_response'));
ALTER TABLE cases ADD COLUMN sla_due_at TIMESTAMPTZ NULL;
ALTER TABLE cases ADD COLUMN sla_paused_secs BIGINT NULL;
-- Bumped each time a new target starts, so escalations fire once per target.
ALTER TABLE cases ADD COLUMN sla_round BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cases ADD COLUMN sla_breached_at TIMESTAMPTZ NULL;
-- Optimistic concurrency for callers that read, decide, then write.
ALTER TABLE cases ADD COLUMN version BIGINT NOT NULL DEFAULT 0;
-- Cases opened before this migration may share a conversation; all but the
-- newest active one are marked so the uniqueness below holds.
ALTER TABLE cases ADD COLUMN superseded BOOLEAN NOT NULL DEFAULT FALSE;

UPDATE cases SET last_message_at = opened_at;
UPDATE cases SET superseded = TRUE
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
    id             BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id     TEXT        NOT NULL,
    case_id        BIGINT      NOT NULL,
    post_id        TEXT        NOT NULL,
    author_handle  TEXT        NOT NULL,
    intent         TEXT        NOT NULL,
    text_excerpt   TEXT        NOT NULL,
    at             TIMESTAMPTZ NOT NULL,
    received_at    TIMESTAMPTZ NOT NULL,
    -- A post belongs to one case, however often it is delivered.
    CONSTRAINT case_messages_one_per_post UNIQUE (account_id, post_id),
    CONSTRAINT case_messages_case_fk FOREIGN KEY (account_id, case_id)
        REFERENCES cases (account_id, id)
);

CREATE INDEX case_messages_by_case ON case_messages (account_id, case_id, at, id);

INSERT INTO case_messages (account_id, case_id, post_id, author_handle, intent, text_excerpt, at, received_at)
SELECT account_id, id, post_id, author_handle, intent, text_excerpt, opened_at, updated_at
FROM cases
ORDER BY id;

-- Escalation rules that fired: at most once per case, SLA round and rule.
CREATE TABLE case_escalations (
    account_id  TEXT        NOT NULL,
    case_id     BIGINT      NOT NULL,
    sla_round   BIGINT      NOT NULL,
    rule        TEXT        NOT NULL,
    fired_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, case_id, sla_round, rule),
    CONSTRAINT case_escalations_case_fk FOREIGN KEY (account_id, case_id)
        REFERENCES cases (account_id, id)
);

-- Messages to send to other systems (webhooks), written in the transaction
-- that decided them and delivered later, at least once.
CREATE TABLE outbox (
    id               BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id       TEXT        NOT NULL,
    case_id          BIGINT      NULL,
    kind             TEXT        NOT NULL,
    destination      TEXT        NOT NULL,
    payload          JSONB       NOT NULL,
    created_at       TIMESTAMPTZ NOT NULL,
    attempts         BIGINT      NOT NULL DEFAULT 0,
    next_attempt_at  TIMESTAMPTZ NOT NULL,
    delivered_at     TIMESTAMPTZ NULL,
    last_error       TEXT        NULL
);

CREATE INDEX outbox_pending ON outbox (account_id, next_attempt_at) WHERE delivered_at IS NULL;

-- One row per account, locked by every transaction that routes cases, so
-- routing decisions of one account never interleave. Pulling a next case does
-- not take it (it skips locked rows instead).
CREATE TABLE routing_locks (
    account_id  TEXT PRIMARY KEY
);

-- Community settings of an account (routing rules, SLA policies, windows) as
-- the community crate's JSON document, so every process reads the same.
CREATE TABLE community_settings (
    account_id  TEXT        PRIMARY KEY,
    settings    JSONB       NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
