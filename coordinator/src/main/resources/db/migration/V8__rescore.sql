-- Rescores and the score history of each model.
-- model_record: the fingerprint the current score was produced under (the result's evaluationInfo
-- scoring_fingerprint; NULL when none was reported) and the model's rescore, if any: QUEUED, PRECHECK or
-- RUNNING while pending (the model stays COMPLETED with its score meanwhile), FAILED when it failed for good,
-- with the fingerprint it was requested for, when, and why it failed.

ALTER TABLE model_record ADD COLUMN scoring_fingerprint VARCHAR(128);
ALTER TABLE model_record ADD COLUMN rescore_status VARCHAR(16);
ALTER TABLE model_record ADD COLUMN rescore_fingerprint VARCHAR(128);
ALTER TABLE model_record ADD COLUMN rescore_requested_at TIMESTAMP;
ALTER TABLE model_record ADD COLUMN rescore_failure_reason VARCHAR(2000);
ALTER TABLE model_record ADD COLUMN rescore_failure_category VARCHAR(16);
CREATE INDEX model_record_rescore_idx ON model_record (rescore_status, rescore_requested_at);
CREATE INDEX model_record_fingerprint_idx ON model_record (scoring_fingerprint);

-- Every result of a model, completed (its scores) or failed for good (why), with the fingerprint it was
-- produced under, its source, its attempt, whether it was a rescore's, and when. One row per (hash, attempt):
-- the projection replaces the row of an attempt it sees again.
CREATE TABLE score_history (
  hash VARCHAR(20) NOT NULL,
  attempt INTEGER NOT NULL,
  outcome VARCHAR(16) NOT NULL,
  rescore BOOLEAN NOT NULL,
  scoring_fingerprint VARCHAR(128),
  source VARCHAR(64),
  model_size_score DOUBLE PRECISION,
  qualitative_score DOUBLE PRECISION,
  latency_score DOUBLE PRECISION,
  total_score DOUBLE PRECISION,
  coherence_score DOUBLE PRECISION,
  creativity_score DOUBLE PRECISION,
  post_eval_score DOUBLE PRECISION,
  judge_score DOUBLE PRECISION,
  failure_reason VARCHAR(2000),
  failure_category VARCHAR(16),
  at TIMESTAMP NOT NULL,
  PRIMARY KEY (hash, attempt)
);

-- The projection has passed the results recorded before this table: each COMPLETED model's current score
-- (exact: a COMPLETED row's attempt and time are its completion's) starts its history.
INSERT INTO score_history (hash, attempt, outcome, rescore, source, model_size_score, qualitative_score, latency_score, total_score,
    coherence_score, creativity_score, post_eval_score, judge_score, at)
  SELECT hash, attempt, 'COMPLETED', FALSE, score_source, model_size_score, qualitative_score, latency_score, total_score,
    coherence_score, creativity_score, post_eval_score, judge_score, updated_at
  FROM model_record WHERE status = 'COMPLETED';
