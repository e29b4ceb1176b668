// boilercut label: the page view. Plain JS, no build step, nothing fetched from elsewhere.
// A page is rendered once; a key press changes the classes of the lines it touches only,
// so a page of thousands of lines labels without lag.
"use strict";

const $ = (id) => document.getElementById(id);
let state = null;      // /api/state
let page = null;       // the page shown: id, lines, labels, model_labels, scores, strength, ...
let labels = [];       // the current label of each line
let rows = [];         // the line elements
let cursor = 0;
let anchor = null;     // the other end of a selected run, or null
let undoStack = [];    // [{indices, before}], the last change on top
let busy = false;      // a request that changes the page is on its way

async function api(path, body) {
  const options = body === undefined ? {} : {method: "POST", headers: {"Content-Type": "application/json"},
                                             body: JSON.stringify(body)};
  const answer = await fetch(path, options);
  const value = await answer.json();
  if (!answer.ok) throw new Error(value.error || answer.statusText);
  if (value.state) showState(value.state);
  return value;
}

function say(text, isError) {
  $("message").textContent = text || "";
  $("message").className = isError ? "error" : "";
}

function showState(s) {
  const first = state === null;
  state = s;
  if (first) makeLabelButtons();
  $("counts").textContent = `${s.labeled} labeled · ${s.remaining} to go` +
    (s.skipped ? ` · ${s.skipped} skipped` : "");
  $("adapt").innerHTML = "";
  if (s.adapt_command) {
    $("adapt").append("Adapt the model to these pages: ");
    const code = document.createElement("code");
    code.textContent = s.adapt_command;
    $("adapt").append(code);
  }
}

function makeLabelButtons() {
  const box = $("label-buttons");
  state.labels.forEach((name, k) => {
    const b = document.createElement("button");
    b.className = "label-button";
    b.style.setProperty("--c", `var(--${name}, var(--other))`);
    b.textContent = `${k + 1} ${name}`;
    b.addEventListener("click", () => setLabel(name));
    box.append(b);
  });
}

function isUnsure(i) {
  const score = page.scores[i];
  return score !== undefined && Math.abs(score - state.threshold) < state.unsure_margin;
}

function rowClass(i) {
  const label = labels[i];
  let cls = "l " + (state.labels.includes(label) ? label : "nolabel");
  if (isUnsure(i)) cls += " unsure";
  if (label !== page.model_labels[i]) cls += " edited";
  if (i === cursor) cls += " cur";
  if (anchor !== null && i >= Math.min(anchor, cursor) && i <= Math.max(anchor, cursor)) cls += " sel";
  return cls;
}

function updateRow(i) {
  const row = rows[i];
  row.className = rowClass(i);
  row.children[1].textContent = labels[i] === null ? "?" : labels[i];
}

function render(p) {
  page = p;
  labels = p.labels.slice();
  cursor = 0;
  anchor = null;
  undoStack = [];
  const box = $("lines");
  const fragment = document.createDocumentFragment();
  rows = p.lines.map((text, i) => {
    const row = document.createElement("div");
    row.dataset.i = i;
    row.style.setProperty("--s", p.strength[i] === undefined ? 1 : p.strength[i]);
    const n = document.createElement("span");
    n.className = "n";
    n.textContent = i + 1;
    const tag = document.createElement("span");
    tag.className = "tag";
    const t = document.createElement("span");
    t.className = "t";
    t.textContent = text;
    row.append(n, tag, t);
    fragment.append(row);
    return row;
  });
  box.replaceChildren(fragment);
  rows.forEach((_, i) => updateRow(i));
  $("page-title").textContent = `${p.id}` + (p.site ? ` · ${p.site}` : "") +
    ` · ${p.lines.length} lines · uncertainty ${p.uncertainty.toFixed(2)}` + (p.finished ? " · finished" : "");
  window.scrollTo(0, 0);
  box.focus();
}

function selection() {
  if (anchor === null) return [cursor, cursor];
  return [Math.min(anchor, cursor), Math.max(anchor, cursor)];
}

function moveTo(next, extend) {
  if (!page || !rows.length) return;
  next = Math.max(0, Math.min(rows.length - 1, next));
  const [a0, b0] = selection();
  if (extend && anchor === null) anchor = cursor;
  if (!extend) anchor = null;
  cursor = next;
  const [a1, b1] = selection();
  // Only the lines whose state changed: the old and new runs, never the whole page.
  const touched = new Set([a0, b0, a1, b1]);
  for (let i = Math.min(a0, a1); i <= Math.max(b0, b1); i++) touched.add(i);
  touched.forEach(updateRow);
  rows[cursor].scrollIntoView({block: "nearest"});
}

function setLabel(name) {
  if (!page) return;
  const [a, b] = selection();
  const indices = [];
  for (let i = a; i <= b; i++) indices.push(i);
  undoStack.push({indices, before: indices.map((i) => labels[i]), cursor, anchor});
  indices.forEach((i) => { labels[i] = name; });
  const oldAnchor = anchor;
  anchor = null;
  indices.forEach(updateRow);
  // Labeling a line (or a run) moves on to the line after it: most pages are labeled top down.
  moveTo(oldAnchor === null ? cursor + 1 : b + 1, false);
}

function undo() {
  const last = undoStack.pop();
  if (!last) { say("nothing to undo on this page"); return; }
  last.indices.forEach((i, k) => { labels[i] = last.before[k]; });
  const [a0, b0] = selection();
  cursor = last.cursor;
  anchor = last.anchor;
  const [a1, b1] = selection();
  new Set([...last.indices, a0, b0, a1, b1]).forEach(updateRow);
  rows[cursor].scrollIntoView({block: "nearest"});
  say(`undone: ${last.indices.length} line(s)`);
}

function nextUnsure(step) {
  for (let i = cursor + step; i >= 0 && i < rows.length; i += step) {
    if (isUnsure(i)) { moveTo(i, false); return; }
  }
  say("no more unsure lines that way");
}

async function load(request) {
  busy = true;
  try {
    const answer = await request();
    if (answer.page) {
      render(answer.page);
      say(answer.page.finished ? "a finished page: accepting it again replaces its labels" : "");
    } else if (!answer.state.ready) {
      page = null;
      say(`scoring pages: ${answer.state.scored} of ${answer.state.pages}…`);
      setTimeout(() => load(() => api("/api/next")), 1000);
    } else {
      page = null;
      $("lines").replaceChildren();
      $("page-title").textContent = "";
      say(answer.state.error || "every page is labeled (h: the finished pages)", Boolean(answer.state.error));
    }
  } catch (err) {
    say(err.message, true);
  } finally {
    busy = false;
  }
}

function accept() {
  if (!page || busy) return;
  const id = page.id;
  load(async () => {
    await api("/api/accept", {id, labels});
    say(`saved ${id}`);
    return api("/api/next");
  });
}

function skip() {
  if (!page || busy) return;
  load(() => api("/api/skip", {id: page.id}));
}

async function toggleDone() {
  const panel = $("done-panel");
  if (!panel.hidden) { panel.hidden = true; return; }
  try {
    const answer = await api("/api/done");
    const list = $("done-list");
    list.replaceChildren(...answer.pages.map((p) => {
      const item = document.createElement("li");
      item.textContent = `${p.id} (${p.lines} lines, ${p.labeled_at || ""})`;
      item.addEventListener("click", () => {
        panel.hidden = true;
        load(() => api("/api/page?id=" + encodeURIComponent(p.id)));
      });
      return item;
    }));
    panel.hidden = false;
  } catch (err) {
    say(err.message, true);
  }
}

document.addEventListener("keydown", (event) => {
  if (event.target.closest && event.target.closest("input, textarea")) return;
  const key = event.key;
  const digit = Number.parseInt(key, 10);
  let handled = true;
  if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "z") undo();
  else if (event.ctrlKey || event.metaKey || event.altKey) handled = false;
  else if (key === "j" || key === "J" || key === "ArrowDown") moveTo(cursor + 1, event.shiftKey);
  else if (key === "k" || key === "K" || key === "ArrowUp") moveTo(cursor - 1, event.shiftKey);
  else if (state && digit >= 1 && digit <= state.labels.length) setLabel(state.labels[digit - 1]);
  else if (key === "Enter") accept();
  else if (key === "s") skip();
  else if (key === "u") undo();
  else if (key === "n") nextUnsure(1);
  else if (key === "p") nextUnsure(-1);
  else if (key === "h") toggleDone();
  else if (key === "?") $("help").hidden = !$("help").hidden;
  else if (key === "Escape") {
    $("help").hidden = true;
    $("done-panel").hidden = true;
    moveTo(cursor, false);
  } else handled = false;
  if (handled) event.preventDefault();
});

$("lines").addEventListener("click", (event) => {
  const row = event.target.closest(".l");
  if (row) moveTo(Number(row.dataset.i), event.shiftKey);
});
$("accept").addEventListener("click", accept);
$("skip").addEventListener("click", skip);
$("undo").addEventListener("click", undo);
$("history").addEventListener("click", toggleDone);
$("help-button").addEventListener("click", () => { $("help").hidden = !$("help").hidden; });

load(() => api("/api/next"));
