-- What the dashboard shows of a model in precheck or running: the worker slot holding its attempt
-- and the attempt's latest progress (phase and fraction), which starts at precheck 0 with each attempt.

ALTER TABLE model_record ADD COLUMN worker VARCHAR(1000);
ALTER TABLE model_record ADD COLUMN progress_phase VARCHAR(32);
ALTER TABLE model_record ADD COLUMN progress_fraction DOUBLE PRECISION;
