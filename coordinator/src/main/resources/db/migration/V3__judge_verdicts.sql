-- The judge's verdicts of each model's latest judged attempt, one row per sample in sample order,
-- kept by the read-side projection. body is the verdict record as JSON (both conversations, the
-- verdict, the reasoning, the judge or the error), as GET /models/{hash}/verdicts returns it.

CREATE TABLE judge_verdict (
  hash VARCHAR(20) NOT NULL,
  attempt INTEGER NOT NULL,
  position INTEGER NOT NULL,
  body VARCHAR(1000000) NOT NULL,
  PRIMARY KEY (hash, position)
);
