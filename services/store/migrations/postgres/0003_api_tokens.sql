-- Bearer tokens of the HTTP API, stored as SHA-256 hashes of the secret: a
-- leaked table grants nothing. An admin token has no account (all accounts);
-- every other role is bound to one account, and an agent token to one agent.

CREATE TABLE api_tokens (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash    TEXT        NOT NULL UNIQUE,
    account_id    TEXT        NULL,
    role          TEXT        NOT NULL CHECK (role IN ('admin', 'supervisor', 'agent', 'client')),
    agent         TEXT        NULL,
    name          TEXT        NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    revoked_at    TIMESTAMPTZ NULL,
    CHECK ((role = 'admin') = (account_id IS NULL)),
    CHECK ((role = 'agent') = (agent IS NOT NULL))
);

CREATE INDEX api_tokens_by_account ON api_tokens (account_id, id);
