-- The read side: one row per submitted model and one per registry uid, kept by the read-side
-- projection from the entities' events, and the projection's own offsets (pekko-projection-jdbc's
-- table layout, lower-case names as configured with use-lowercase-schema).

CREATE TABLE model_record (
  hash VARCHAR(20) NOT NULL PRIMARY KEY,
  repo_namespace VARCHAR(96) NOT NULL,
  repo_name VARCHAR(96) NOT NULL,
  chat_template_type VARCHAR(32) NOT NULL,
  hotkey VARCHAR(64) NOT NULL,
  block BIGINT NOT NULL,
  revision VARCHAR(128),
  competition_id VARCHAR(64),
  status VARCHAR(16) NOT NULL,
  accepted BOOLEAN NOT NULL,
  attempt INTEGER NOT NULL,
  failure_reason VARCHAR(2000),
  failure_category VARCHAR(16),
  duplicate_of VARCHAR(500),
  content_hash VARCHAR(64),
  score_source VARCHAR(64),
  model_size_score DOUBLE PRECISION,
  qualitative_score DOUBLE PRECISION,
  latency_score DOUBLE PRECISION,
  total_score DOUBLE PRECISION,
  coherence_score DOUBLE PRECISION,
  creativity_score DOUBLE PRECISION,
  post_eval_score DOUBLE PRECISION,
  judge_score DOUBLE PRECISION,
  submitted_at TIMESTAMP NOT NULL,
  updated_at TIMESTAMP NOT NULL
);

CREATE INDEX model_record_hotkey_idx ON model_record (hotkey, block);
CREATE INDEX model_record_repo_idx ON model_record (repo_namespace, repo_name);
CREATE INDEX model_record_status_idx ON model_record (status);

CREATE TABLE miner_registry (
  uid INTEGER NOT NULL PRIMARY KEY,
  hotkey VARCHAR(64) NOT NULL,
  hash VARCHAR(20) NOT NULL,
  block BIGINT NOT NULL,
  updated_at TIMESTAMP NOT NULL
);

CREATE TABLE pekko_projection_offset_store (
  projection_name VARCHAR(255) NOT NULL,
  projection_key VARCHAR(255) NOT NULL,
  current_offset VARCHAR(255) NOT NULL,
  manifest VARCHAR(4) NOT NULL,
  mergeable BOOLEAN NOT NULL,
  last_updated BIGINT NOT NULL,
  PRIMARY KEY (projection_name, projection_key)
);

CREATE INDEX projection_name_index ON pekko_projection_offset_store (projection_name);

CREATE TABLE pekko_projection_management (
  projection_name VARCHAR(255) NOT NULL,
  projection_key VARCHAR(255) NOT NULL,
  paused BOOLEAN NOT NULL,
  last_updated BIGINT NOT NULL,
  PRIMARY KEY (projection_name, projection_key)
);
