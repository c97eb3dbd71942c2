-- The repository of a model as Hugging Face resolves it, case-insensitively: "namespace/name" in lower
-- case, indexed. Every submission looks for an earlier model of the same repository by another hotkey
-- (a duplicate); comparing LOWER(repo_namespace) and LOWER(repo_name) read the whole table each time.

ALTER TABLE model_record ADD COLUMN repository_key VARCHAR(193);
UPDATE model_record SET repository_key = LOWER(repo_namespace) || '/' || LOWER(repo_name);
ALTER TABLE model_record ALTER COLUMN repository_key SET NOT NULL;
CREATE INDEX model_record_repository_key_idx ON model_record (repository_key, block);
-- The exact-case index of V2 served nothing else.
DROP INDEX model_record_repo_idx;
