-- Cases, agents, audit log and ingest checkpoints. Every table carries
-- account_id and every key starts with it: tenancy is enforced in SQL.

CREATE TABLE agents (
    account_id  TEXT        NOT NULL,
    name        TEXT        NOT NULL,
    -- Order of the agent in the account's round-robin rotation.
    position    BIGINT      NOT NULL,
    active      BOOLEAN     NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, name)
);

CREATE INDEX agents_rotation ON agents (account_id, active, position);

CREATE TABLE cases (
    id              BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id      TEXT        NOT NULL,
    post_id         TEXT        NOT NULL,
    thread_id       TEXT        NOT NULL,
    intent          TEXT        NOT NULL,
    status          TEXT        NOT NULL CHECK (status IN
                        ('new', 'queued', 'assigned', 'waiting_on_customer', 'resolved', 'closed')),
    priority        REAL        NOT NULL,
    assigned_agent  TEXT        NULL,
    author_handle   TEXT        NOT NULL,
    lang            TEXT        NOT NULL,
    tags            JSONB       NOT NULL DEFAULT '[]'::jsonb,
    text_excerpt    TEXT        NOT NULL,
    opened_at       TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL,
    -- Redelivered posts must not open a second case.
    CONSTRAINT cases_one_per_post UNIQUE (account_id, post_id),
    -- Lets child rows reference (account_id, id) so they cannot cross accounts.
    CONSTRAINT cases_account_id_id UNIQUE (account_id, id),
    CONSTRAINT cases_assigned_agent_fk FOREIGN KEY (account_id, assigned_agent)
        REFERENCES agents (account_id, name)
);

CREATE INDEX cases_queue ON cases (account_id, status, priority DESC, opened_at);
CREATE INDEX cases_by_agent ON cases (account_id, assigned_agent);
CREATE INDEX cases_by_opened_at ON cases (account_id, opened_at);

CREATE TABLE case_events (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  TEXT        NOT NULL,
    case_id     BIGINT      NOT NULL,
    kind        TEXT        NOT NULL,
    payload     JSONB       NOT NULL,
    actor       TEXT        NOT NULL,
    reason      TEXT        NOT NULL,
    at          TIMESTAMPTZ NOT NULL,
    CONSTRAINT case_events_case_fk FOREIGN KEY (account_id, case_id)
        REFERENCES cases (account_id, id)
);

CREATE INDEX case_events_by_case ON case_events (account_id, case_id, id);

-- Round-robin ticket counter per account: a case's agent is the active agent
-- at index (ticket mod active agent count), ordered by position.
CREATE TABLE round_robin (
    account_id     TEXT   PRIMARY KEY,
    next_position  BIGINT NOT NULL
);

CREATE TABLE source_cursors (
    account_id     TEXT        NOT NULL,
    source         TEXT        NOT NULL,
    cursor         TEXT        NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    posts_fetched  BIGINT      NOT NULL DEFAULT 0,
    last_error     TEXT        NULL,
    PRIMARY KEY (account_id, source)
);
