-- Alerting: rules as the typed API writes them, one evaluation state per rule, and a history
-- that doubles as the notification outbox. The seed's alert_configs and alert_history had no
-- writer yet (no rows), so they are replaced instead of altered.
DROP TABLE alert_history;
DROP TABLE alert_configs;

CREATE TABLE alert_configs (
    id                   UUID PRIMARY KEY,
    project_id           UUID NOT NULL,
    name                 TEXT NOT NULL,
    description          TEXT,
    enabled              BOOLEAN NOT NULL,
    severity             TEXT NOT NULL,
    -- `condition.type`, for listing and filtering without parsing the JSON.
    condition_type       TEXT NOT NULL,
    -- The whole `Condition` (tagged by `type`), as the API takes it.
    condition            JSONB NOT NULL,
    operator             TEXT NOT NULL,
    threshold            DOUBLE PRECISION NOT NULL,
    window_minutes       INTEGER NOT NULL,
    pending_evaluations  INTEGER NOT NULL,
    throttle_minutes     INTEGER NOT NULL,
    mute_until           BIGINT,
    -- Channels with their secrets (webhook secret, Slack URL); never returned by the API.
    channels             JSONB NOT NULL,
    created_at           BIGINT NOT NULL,
    updated_at           BIGINT NOT NULL
);
CREATE INDEX alert_configs_created ON alert_configs (created_at, id);

-- The serialized `RuleState` of the evaluator, written in the transaction that writes the
-- history row of the same evaluation, so a restart neither re-sends nor forgets.
CREATE TABLE alert_states (
    rule_id            UUID PRIMARY KEY REFERENCES alert_configs(id) ON DELETE CASCADE,
    state              TEXT NOT NULL,
    data               JSONB NOT NULL,
    last_evaluated_at  BIGINT,
    last_value         DOUBLE PRECISION
);

CREATE TABLE alert_history (
    id                   UUID PRIMARY KEY,
    rule_id              UUID NOT NULL REFERENCES alert_configs(id) ON DELETE CASCADE,
    rule_name            TEXT NOT NULL,
    severity             TEXT NOT NULL,
    -- firing, suppressed, resolved, no_data, test
    kind                 TEXT NOT NULL,
    -- The rule's state after the evaluation.
    state                TEXT NOT NULL,
    value                DOUBLE PRECISION,
    threshold            DOUBLE PRECISION NOT NULL,
    triggered_at         BIGINT NOT NULL,
    notification_sent    BOOLEAN NOT NULL,
    -- One ChannelOutcome per channel tried (JSON array).
    notification_status  JSONB NOT NULL DEFAULT '[]',
    -- The outbox: none (nothing to send), pending (committed, not yet tried), sending (claimed
    -- by the evaluator), done, interrupted (claimed by a collector that stopped mid-send; never
    -- re-sent, so no receiver gets it twice).
    delivery             TEXT NOT NULL,
    message              TEXT NOT NULL,
    -- What delivery needs besides the rule: condition, operator, window, link, samples.
    payload              JSONB NOT NULL,
    acknowledged_at      BIGINT,
    acknowledged_by      TEXT,
    acknowledge_note     TEXT
);
CREATE INDEX alert_history_time ON alert_history (triggered_at, id);
CREATE INDEX alert_history_rule_time ON alert_history (rule_id, triggered_at, id);
CREATE INDEX alert_history_outbox ON alert_history (delivery) WHERE delivery IN ('pending', 'sending');

-- Exception groups remember when the collector first received them, so "new exception" rules
-- judge by the collector's clock (browser clocks drift); the group's first_seen_at stays the
-- sender's time. Existing groups take their first_seen_at.
ALTER TABLE app_exceptions ADD COLUMN first_received_at BIGINT;
UPDATE app_exceptions SET first_received_at = first_seen_at;
CREATE INDEX app_exceptions_first_received ON app_exceptions (first_received_at);
CREATE INDEX app_exceptions_regressed ON app_exceptions (regressed_at) WHERE regressed_at IS NOT NULL;
