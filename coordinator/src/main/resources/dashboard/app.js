// The coordinator's dashboard: polls the JSON routes and redraws in place, without reloading the page.
// Everything shown comes from GET /leaderboard, /queue, /nodes, /weights/history, /validators and /models/{hash}[/events|/scores].
"use strict";

const REFRESH_MS = 2000;
const SCORE_KEYS = ["total_score", "judge_score", "qualitative_score", "creativity_score", "latency_score", "model_size_score",
  "coherence_score", "post_eval_score"];
const PALETTE = ["#2f6fde", "#d9480f", "#2b8a3e", "#ae3ec9", "#e67700", "#0b7285", "#c2255c", "#5c940d", "#364fc7", "#862e9c"];

const view = {
  sortKey: "total_score",
  sortDir: "desc",
  selected: new URLSearchParams(location.hash.slice(1)).get("model"),
  models: [], // the latest /leaderboard, each with its rank by total score
};

// ---- helpers ------------------------------------------------------------------------------------

/** An element with attributes and children; text is always set as text, never parsed as HTML. */
function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "class") node.className = value;
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function svg(tag, attributes) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  return node;
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, cache: "no-store" });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`${path}: ${response.status} ${body.detail || ""}`.trim());
  return body;
}

const fixed = (value, digits = 4) => (value === null || value === undefined ? "–" : Number(value).toFixed(digits));
const shortKey = (hotkey) => (hotkey ? `${hotkey.slice(0, 6)}…${hotkey.slice(-4)}` : "–");
const repository = (m) => `${m.repo_namespace}/${m.repo_name}`;
const clock = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "–");
const dateTime = (iso) => (iso ? new Date(iso).toLocaleString() : "–");
const statusBadge = (status) => el("span", { class: `status status-${status}` }, status);
// A model being rescored stays COMPLETED; where its rescore stands is the status of its current attempt.
const attemptBadge = (m) =>
  (m.rescore && ["QUEUED", "PRECHECK", "RUNNING"].includes(m.rescore.status) ? el("span", {}, statusBadge(m.rescore.status), " rescore") : statusBadge(m.status));

function progressBar(progress) {
  if (!progress) return el("span", { class: "muted" }, "–");
  const percent = Math.round(progress.fraction * 100);
  return el("span", { class: "progress", title: `${progress.phase} ${percent}%` },
    el("span", { class: "bar" }, el("span", { style: `width:${percent}%` })), ` ${progress.phase} ${percent}%`);
}

function replaceRows(tbody, rows) {
  tbody.replaceChildren(...rows);
}

// ---- leaderboard --------------------------------------------------------------------------------

function sortValue(model, key) {
  if (key === "repository") return repository(model).toLowerCase();
  if (SCORE_KEYS.includes(key)) return model.score[key];
  return model[key];
}

/** Sorted by the chosen column; missing values always last, whichever the direction. */
function sortedModels() {
  const direction = view.sortDir === "asc" ? 1 : -1;
  return [...view.models].sort((a, b) => {
    const x = sortValue(a, view.sortKey);
    const y = sortValue(b, view.sortKey);
    if (x === null || x === undefined) return y === null || y === undefined ? a.rank - b.rank : 1;
    if (y === null || y === undefined) return -1;
    if (x < y) return -direction;
    if (x > y) return direction;
    return a.rank - b.rank;
  });
}

function renderLeaderboard(answer) {
  view.models = answer.models.map((model, index) => ({ ...model, rank: index + 1 }));
  const summary = document.getElementById("summary");
  summary.replaceChildren(...Object.entries(answer.counts).map(([status, count]) => el("span", { "data-status": status }, `${status} ${count}`)));
  drawLeaderboard();
}

function drawLeaderboard() {
  for (const th of document.querySelectorAll("#leaderboard th")) {
    th.classList.toggle("sorted-asc", th.dataset.key === view.sortKey && view.sortDir === "asc");
    th.classList.toggle("sorted-desc", th.dataset.key === view.sortKey && view.sortDir === "desc");
  }
  const rows = sortedModels().map((m) =>
    el("tr", { id: `model-${m.model_hash}`, "data-hash": m.model_hash, class: m.model_hash === view.selected ? "selected" : null },
      el("td", { class: "num" }, m.rank),
      el("td", { title: m.model_hash }, repository(m)),
      el("td", { class: "mono", title: m.hotkey }, shortKey(m.hotkey)),
      el("td", { class: "num" }, m.block),
      el("td", { class: "status-cell", title: m.failure_reason || "" }, statusBadge(m.status),
        m.duplicate_of ? el("span", { class: "duplicate", title: `duplicate of ${m.duplicate_of}` }, "duplicate") : null),
      ...SCORE_KEYS.slice(0, 6).map((key) => el("td", { class: `num score-${key}` }, fixed(m.score[key]))),
      el("td", { title: m.updated_at }, clock(m.updated_at))));
  replaceRows(document.querySelector("#leaderboard tbody"), rows);
  document.getElementById("leaderboard-empty").hidden = rows.length > 0;
}

function onSort(event) {
  const th = event.target.closest("th");
  if (!th) return;
  if (view.sortKey === th.dataset.key) view.sortDir = view.sortDir === "asc" ? "desc" : "asc";
  else {
    view.sortKey = th.dataset.key;
    view.sortDir = th.dataset.type === "number" && th.dataset.key !== "rank" && th.dataset.key !== "block" ? "desc" : "asc";
  }
  drawLeaderboard();
}

// ---- queue and nodes ----------------------------------------------------------------------------

function renderQueue(answer) {
  const rows = answer.models.map((m) =>
    el("tr", { id: `queued-${m.model_hash}` },
      el("td", { title: m.model_hash }, repository(m)),
      el("td", {}, attemptBadge(m)),
      el("td", { class: "num" }, m.attempt),
      el("td", { class: "mono worker", title: m.worker }, m.worker || "–"),
      el("td", {}, progressBar(m.progress)),
      el("td", { title: m.submitted_at }, clock(m.submitted_at))));
  replaceRows(document.querySelector("#queue tbody"), rows);
  document.getElementById("queue-empty").hidden = rows.length > 0;
}

/** A fingerprint's id, its components in the tooltip. */
function fingerprintId(fingerprint) {
  const components = fingerprint.components
    ? Object.entries(fingerprint.components).map(([name, value]) => `${name}=${value}`).join("\n")
    : "components not known (configured by id)";
  return el("span", { class: "mono", title: components }, fingerprint.id);
}

/** A gpu-node's scoring fingerprint; one that is not the required one is marked: the node gets no work. */
function nodeFingerprint(member) {
  if (!member.fingerprint) return null;
  return member.matches_required
    ? el("span", { class: "fingerprint" }, "fingerprint ", fingerprintId(member.fingerprint))
    : el("span", { class: "fingerprint mismatch", title: "not the required fingerprint: this node is offered no work" },
      "fingerprint ", fingerprintId(member.fingerprint), " ≠ required: no work");
}

function renderNodes(answer) {
  const required = answer.required_fingerprint;
  document.getElementById("required-fingerprint").replaceChildren(
    ...(required
      ? ["Required scoring fingerprint: ", fingerprintId(required), " ",
        el("span", { class: "muted" }, required.chosen === "configured" ? "(configured)" : `(adopted from ${required.adopted_from})`)]
      : [el("span", { class: "muted" }, "No scoring fingerprint required yet: the first gpu-node's will be adopted.")]));
  const nodes = answer.members.map((member) =>
    el("div", { class: `node${member.reachable ? "" : " unreachable"}${member.matches_required === false ? " mismatched" : ""}`, "data-address": member.address },
      el("div", { class: "node-head" },
        el("strong", { class: "mono" }, member.address),
        member.address === answer.self ? el("span", { class: "muted" }, "(this node)") : null,
        member.roles.map((role) => el("span", { class: "role" }, role)),
        el("span", { class: "muted" }, member.reachable ? member.status : `${member.status}, unreachable`),
        nodeFingerprint(member)),
      member.slots.length === 0
        ? null
        : el("ul", { class: "slots" },
          member.slots.map((slot) =>
            el("li", { class: "slot", "data-worker": slot.worker },
              el("span", { class: "mono" }, slot.worker.split("/").pop()), ": ",
              slot.model
                ? [repository(slot.model), " ", attemptBadge(slot.model), " ", progressBar(slot.model.progress)]
                : el("span", { class: "muted" }, "idle"))))));
  document.getElementById("nodes").replaceChildren(...nodes);
}

// ---- weights chart ------------------------------------------------------------------------------

function renderWeights(answer) {
  const chart = document.getElementById("weights-chart");
  const legend = document.getElementById("weights-legend");
  const steps = answer.steps;
  const uids = [...new Set(steps.flatMap((s) => Object.keys(s.average)))].sort((a, b) => a - b);
  // Folds over an empty registry leave nothing to draw.
  document.getElementById("weights-empty").hidden = uids.length > 0;
  chart.replaceChildren();
  legend.replaceChildren();
  if (uids.length === 0) return;

  const width = 640, height = 240, left = 36, right = 8, top = 8, bottom = 22;
  const maxWeight = Math.max(0.01, ...steps.flatMap((s) => Object.values(s.average)));
  // Points are spaced by block, not by fold: folds are as far apart on the chart as on the chain.
  const first = steps[0].block, span = steps[steps.length - 1].block - first;
  const x = (i) => left + (span === 0 ? (width - left - right) / 2 : ((steps[i].block - first) * (width - left - right)) / span);
  const y = (w) => top + (1 - w / maxWeight) * (height - top - bottom);

  chart.append(svg("line", { x1: left, y1: y(0), x2: width - right, y2: y(0), stroke: "#c9ced6" }));
  chart.append(svg("line", { x1: left, y1: top, x2: left, y2: y(0), stroke: "#c9ced6" }));
  const label = (text, attributes) => {
    const t = svg("text", attributes);
    t.textContent = text;
    chart.append(t);
  };
  label(maxWeight.toFixed(2), { x: 2, y: top + 8 });
  label("0", { x: 2, y: y(0) });
  label(`block ${steps[0].block}`, { x: left, y: height - 6 });
  label(`block ${steps[steps.length - 1].block}`, { x: width - right, y: height - 6, "text-anchor": "end" });

  uids.forEach((uid, index) => {
    const color = PALETTE[index % PALETTE.length];
    const points = steps.map((s, i) => `${x(i).toFixed(1)},${y(s.average[uid] ?? 0).toFixed(1)}`);
    const line = svg(steps.length === 1 ? "circle" : "polyline", steps.length === 1
      ? { cx: x(0), cy: y(steps[0].average[uid] ?? 0), r: 3, fill: color }
      : { points: points.join(" "), fill: "none", stroke: color, "stroke-width": 2 });
    line.setAttribute("class", "weight-line");
    line.setAttribute("data-uid", uid);
    chart.append(line);
    const latest = steps[steps.length - 1].average[uid] ?? 0;
    legend.append(el("span", { "data-uid": uid }, el("i", { style: `background:${color}` }), `uid ${uid}: ${latest.toFixed(4)}`));
  });
}

// ---- validators ---------------------------------------------------------------------------------

function renderValidators(answer) {
  const version = (v) => [v.git_commit, v.bittensor_version && `bittensor ${v.bittensor_version}`].filter(Boolean).join(" · ") || "–";
  const rows = answer.validators.map((v) =>
    el("tr", { "data-hotkey": v.hotkey },
      el("td", { class: "mono", title: v.hotkey }, shortKey(v.hotkey)),
      el("td", { class: "num" }, v.uid ?? "–"),
      el("td", { class: "version" }, version(v)),
      el("td", { class: "num last-block" }, v.last_block ?? "–"),
      el("td", { title: v.last_report_at }, dateTime(v.last_report_at)),
      el("td", { class: "num" }, v.reports)));
  replaceRows(document.querySelector("#validators tbody"), rows);
  document.getElementById("validators-empty").hidden = rows.length > 0;
}

// ---- one model's history ------------------------------------------------------------------------

function describeEvent(type, e) {
  switch (type) {
    case "Submitted": return `submitted at block ${e.details.block}${e.duplicate_of ? ` (duplicate of ${e.duplicate_of})` : ""}`;
    case "SubmissionRefused": return `refused: ${e.reason}`;
    case "Requeued": return `queued again: ${e.reason}`;
    case "RescoreRequested": return `rescore requested (fingerprint ${e.fingerprint}): ${e.reason}`;
    case "PrecheckStarted": return `attempt ${e.attempt} claimed by ${e.worker}: precheck`;
    case "RunningStarted": return `attempt ${e.attempt} running`;
    case "ProgressReported": return `attempt ${e.attempt}: ${e.phase} ${Math.round(e.fraction * 100)}%`;
    case "VerdictsRecorded": {
      const judge = e.verdicts.length > 0 ? e.verdicts[0].judge_identity : null; // absent in verdicts stored before judges recorded it
      return `attempt ${e.attempt}: ${e.verdicts.length} judge verdicts recorded` + (judge ? ` by ${judge.kind} judge ${judge.model}` : "");
    }
    case "EvaluationCompleted": return `attempt ${e.attempt} completed (${e.source}): total ${fixed(e.scores.total_score)}`;
    case "EvaluationFailed": return `attempt ${e.attempt} failed (${e.failure.category}): ${e.failure.reason}`;
    default: return type;
  }
}

async function renderSelectedModel() {
  const section = document.getElementById("model-section");
  if (!view.selected) {
    section.hidden = true;
    return;
  }
  const [record, recorded, history] = await Promise.all(
    [getJson(`/models/${view.selected}`), getJson(`/models/${view.selected}/events`),
     // The read side may not show a model just submitted yet: no history then, rather than no view.
     getJson(`/models/${view.selected}/scores`).catch(() => ({ scores: [] }))]);
  section.hidden = false;
  const d = record.details;
  document.getElementById("model-title").replaceChildren(`${d.repo_namespace}/${d.repo_name} `, statusBadge(record.status));
  replaceRows(document.querySelector("#model-scores tbody"),
    SCORE_KEYS.map((key) => el("tr", { "data-score": key }, el("th", {}, key.replace(/_score$/, "")), el("td", { class: "num" }, fixed(record.score[key])))));
  const failure = d.failure ? `${d.failure.category}: ${d.failure.reason}` : null;
  const facts = [["hash", d.model_hash], ["hotkey", d.hotkey], ["block", d.block], ["chat template", d.chat_template_type], ["revision", d.revision],
    ["attempt", d.attempt], ["score source", d.score_source], ["scoring fingerprint", d.scoring_fingerprint], ["duplicate of", d.duplicate_of],
    ["failure", failure], ["rescore", d.rescore && `${d.rescore.status} (fingerprint ${d.rescore.fingerprint})${d.rescore.failure ? `: ${d.rescore.failure.reason}` : ""}`],
    ["backend", d.evaluation && d.evaluation.backend], ["submitted", dateTime(d.submitted_at)], ["updated", dateTime(d.updated_at)]];
  replaceRows(document.querySelector("#model-details tbody"),
    facts.filter(([, value]) => value !== null && value !== undefined).map(([name, value]) => el("tr", {}, el("th", {}, name), el("td", { class: "mono" }, value))));
  replaceRows(document.querySelector("#model-history tbody"), history.scores.map((h) =>
    el("tr", { "data-attempt": h.attempt },
      el("td", { class: "num" }, h.attempt), el("td", {}, h.outcome + (h.rescore ? " (rescore)" : "")), el("td", { class: "mono" }, h.scoring_fingerprint || "none"),
      el("td", { class: "num" }, h.outcome === "COMPLETED" ? fixed(h.score.total_score) : h.failure.reason), el("td", {}, dateTime(h.at)))));
  document.getElementById("timeline").replaceChildren(...recorded.events.map((entry) =>
    el("li", { class: `ev-${entry.type}`, "data-type": entry.type },
      el("time", { datetime: entry.event.at }, dateTime(entry.event.at)), describeEvent(entry.type, entry.event))));
}

function select(hash) {
  view.selected = hash;
  history.replaceState(null, "", hash ? `#model=${hash}` : location.pathname);
  for (const row of document.querySelectorAll("#leaderboard tbody tr")) row.classList.toggle("selected", row.dataset.hash === hash);
  renderSelectedModel().catch(showError);
}

// ---- the refresh loop ---------------------------------------------------------------------------

function showError(error) {
  const live = document.getElementById("live");
  live.className = "badge bad";
  live.textContent = "offline";
  live.title = error.message;
}

async function refresh() {
  const parts = [
    ["/leaderboard", renderLeaderboard],
    ["/queue", renderQueue],
    ["/nodes", renderNodes],
    ["/weights/history", renderWeights],
    ["/validators", renderValidators],
  ];
  const results = await Promise.allSettled(parts.map(([path, render]) => getJson(path).then(render)));
  const selected = await renderSelectedModel().then(() => null, (error) => error);
  const failure = results.find((r) => r.status === "rejected");
  if (failure || selected) {
    showError(failure ? failure.reason : selected);
  } else {
    const live = document.getElementById("live");
    live.className = "badge ok";
    live.textContent = "live";
    live.title = "";
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString()}`;
  }
  // The next round starts once this one is drawn: a slow server is never asked twice at once.
  setTimeout(refresh, REFRESH_MS);
}

document.querySelector("#leaderboard thead").addEventListener("click", onSort);
document.querySelector("#leaderboard tbody").addEventListener("click", (event) => {
  const row = event.target.closest("tr");
  if (row) select(row.dataset.hash);
});
document.getElementById("model-close").addEventListener("click", () => select(null));
refresh();
