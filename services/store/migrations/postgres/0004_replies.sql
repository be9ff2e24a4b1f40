-- Replies sent through smo, internal notes and canned responses.
--
-- A reply is recorded in the same transaction as the case's response (first
-- response time, SLA clock) and, when the account has an outbound connector,
-- its outbox message; the idempotency key makes a retried request (a
-- double-click, a client retry after a timeout) record one reply. Its
-- delivery state is the outbox row's: pending, retrying, delivered or failed.

ALTER TABLE outbox ADD COLUMN failed_at TIMESTAMPTZ NULL;

DROP INDEX outbox_pending;
CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE delivered_at IS NULL AND failed_at IS NULL;

CREATE TABLE case_replies (
    id                 BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id         TEXT        NOT NULL,
    case_id            BIGINT      NOT NULL,
    agent              TEXT        NOT NULL,
    body               TEXT        NOT NULL,
    language           TEXT        NULL,
    canned             TEXT        NULL,
    idempotency_key    TEXT        NOT NULL,
    in_reply_to_post   TEXT        NULL,
    outbox_id          BIGINT      NULL REFERENCES outbox (id),
    created_at         TIMESTAMPTZ NOT NULL,
    CONSTRAINT case_replies_idempotent UNIQUE (account_id, idempotency_key),
    CONSTRAINT case_replies_case_fk FOREIGN KEY (account_id, case_id)
        REFERENCES cases (account_id, id)
);

CREATE INDEX case_replies_by_case ON case_replies (account_id, case_id, id);
CREATE INDEX case_replies_by_outbox ON case_replies (outbox_id) WHERE outbox_id IS NOT NULL;

CREATE TABLE case_notes (
    id          BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id  TEXT        NOT NULL,
    case_id     BIGINT      NOT NULL,
    author      TEXT        NOT NULL,
    body        TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT case_notes_case_fk FOREIGN KEY (account_id, case_id)
        REFERENCES cases (account_id, id)
);

CREATE INDEX case_notes_by_case ON case_notes (account_id, case_id, id);

-- Canned responses per account, name and language; `any` serves cases whose
-- language has no version of its own.
CREATE TABLE canned_responses (
    account_id  TEXT        NOT NULL,
    name        TEXT        NOT NULL,
    language    TEXT        NOT NULL,
    body        TEXT        NOT NULL,
    updated_by  TEXT        NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (account_id, name, language)
);
