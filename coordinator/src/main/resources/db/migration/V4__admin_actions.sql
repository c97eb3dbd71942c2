-- Every admin action over HTTP: when, which admin token (a fingerprint, never the token), which
-- route, and the HTTP status it was answered with.

CREATE TABLE admin_action (
  at TIMESTAMP NOT NULL,
  who VARCHAR(32) NOT NULL,
  action VARCHAR(64) NOT NULL,
  status INTEGER NOT NULL
);

CREATE INDEX admin_action_at_idx ON admin_action (at);
