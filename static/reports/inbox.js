// Triage inbox: one event at a time from the queue on the page. c/d confirm or dismiss it through the review
// page's endpoint (with the note, and the class for a confirmed one) and move straight to the next event; u undoes
// the last verdict by sending back what the event was. When the page is used up the next events are loaded. The
// undo stack and the events skipped with n live in sessionStorage, so they survive that reload. Data comes from a
// json element: the CSP forbids inline scripts.
(function () {
  "use strict";
  const byId = (id) => document.getElementById(id);
  const data = JSON.parse(byId("inbox-data").textContent);
  const rows = data.rows;
  const counts = Object.assign({}, data.counts);
  const tableRows = new Map(Array.from(document.querySelectorAll("#inbox-table tr[data-event]"))
    .map((tr) => [Number(tr.dataset.event), tr]));
  const note = byId("verdict-note"), classSelect = byId("verdict-class"), status = byId("verdict-status");
  const undoButton = byId("undo-verdict");
  const STATES = { unreviewed: "Unreviewed", confirmed: "Confirmed", dismissed: "Dismissed" };
  const UNDO_KEY = "skerry-inbox-undo";
  const filters = new URLSearchParams(location.search);
  filters.delete("page");
  const SKIP_KEY = "skerry-inbox-skipped?" + filters.toString();  // per set of filters

  function load(key, fallback) {
    try { return JSON.parse(sessionStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function save(key, value) {
    try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: undo lasts the page */ }
  }
  let undoStack = load(UNDO_KEY, []);
  const skipped = new Set(load(SKIP_KEY, []));
  const done = new Set();  // given a verdict on this page
  let current = -1, saving = false;
  const pending = (row) => !done.has(row.id) && !skipped.has(row.id);

  function badge(review, anomalyClass) {
    const span = document.createElement("span");
    span.className = "badge " + review;
    span.textContent = STATES[review] || review;
    const parts = [span];
    if (anomalyClass) {
      const name = document.createElement("span");
      name.className = "class-name";
      name.textContent = anomalyClass;
      parts.push(" ", name);
    }
    return parts;
  }
  function renderRow(row) {
    const tr = tableRows.get(row.id);
    tr.className = "state-" + row.review + (rows[current] === row ? " selected" : "");
    tr.querySelector(".review-state").replaceChildren(...badge(row.review, row.anomaly_class));
  }
  function renderCounts() {
    document.querySelectorAll("[data-count]").forEach((el) => { el.textContent = counts[el.dataset.count]; });
  }
  function renderUndo() {
    if (undoButton) undoButton.disabled = saving || !undoStack.length;
  }

  // --- the current event ----------------------------------------------------------------------------------
  function select(index) {
    if (index < 0 || index >= rows.length) return;
    current = index;
    const row = rows[index];
    tableRows.forEach((tr, id) => tr.classList.toggle("selected", id === row.id));
    tableRows.get(row.id).scrollIntoView({ block: "nearest" });
    byId("inbox-current").dataset.event = String(row.id);
    byId("current-image").src = row.thumbnail;
    byId("current-reference-figure").hidden = !row.reference;
    if (row.reference) byId("current-reference").src = row.reference;
    byId("current-title").textContent = row.title;
    byId("current-facts").textContent = row.facts.join(" · ");
    byId("current-level").textContent = "level " + row.level;
    byId("current-swatch").style.background = row.colour;
    byId("current-score").textContent = "score " + row.score;
    byId("current-state").replaceChildren(...badge(row.review, row.anomaly_class));
    const reference = byId("current-reference-line");
    reference.hidden = !row.reference_line;
    reference.textContent = (row.change ? row.change + " · " : "") + "compared with " + row.reference_line;
    byId("current-open").href = row.open_url;
    const compare = byId("current-compare");
    compare.hidden = !row.compare;
    compare.href = row.compare || "#";
    byId("current-position").textContent = (index + 1) + " / " + rows.length + " on this page";
    if (note) note.value = row.note || "";
    if (classSelect) chooseClass(row.anomaly_class || "");
    for (const id of ["confirm-event", "dismiss-event"]) if (byId(id)) byId(id).disabled = !row.can_review;
  }
  function chooseClass(name) {
    if (name && !Array.from(classSelect.options).some((o) => o.value === name)) classSelect.add(new Option(name, name));
    classSelect.value = name;
  }

  // --- moving on ------------------------------------------------------------------------------------------
  function go(url) {
    document.body.dataset.inboxLeaving = "1";
    location.assign(url);
  }
  function pageUsedUp() {
    // In a view of one state, events given another verdict leave it and the next ones move up into this page:
    // load it again. Otherwise the next page, if any.
    const left = rows.some((row) => row.review !== data.state);
    if (data.state !== "all" && left && counts[data.state] > rows.filter((r) => r.review === data.state).length) {
      return go(location.href);
    }
    const next = byId("next-page");
    if (next) return go(next.href);
    status.textContent = "That was the last event here. " + status.textContent;
    document.body.dataset.inboxDone = "1";
  }
  function advance() {
    for (let i = current + 1; i < rows.length; i++) if (pending(rows[i])) return select(i);
    for (let i = 0; i < current; i++) if (pending(rows[i])) return select(i);
    pageUsedUp();
  }
  function step(direction) {
    const row = rows[current];
    if (direction > 0 && pending(row)) {
      skipped.add(row.id);
      save(SKIP_KEY, Array.from(skipped).slice(-1000));
    }
    if (current + direction >= 0 && current + direction < rows.length) return select(current + direction);
    if (direction > 0) return pageUsedUp();
    const previous = byId("previous-page");
    if (previous) go(previous.href);
  }

  // --- verdicts -------------------------------------------------------------------------------------------
  function csrfToken() {
    const field = document.querySelector("#verdict-form [name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  async function send(url, body) {
    const response = await fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({ error: "HTTP " + response.status }));
    if (!response.ok) throw new Error(answer.error || "HTTP " + response.status);
    return answer;
  }
  function apply(row, answer) {
    counts[row.review] -= 1;
    counts[answer.review] += 1;
    Object.assign(row, { review: answer.review, note: answer.note, anomaly_class: answer.anomaly_class });
    renderRow(row);
    renderCounts();
  }
  async function verdict(review) {
    if (saving || current < 0 || !note) return;
    const row = rows[current];
    if (!row.can_review) { status.textContent = "You may read this area's events, not review them."; return; }
    const previous = { review: row.review, note: row.note, anomaly_class: row.anomaly_class };
    const body = { review: review, note: note.value };
    if (review === "confirmed") body.anomaly_class = classSelect.value;
    saving = true;
    renderUndo();
    status.textContent = "Saving…";
    try {
      const answer = await send(row.review_url, body);
      apply(row, answer);
      done.add(row.id);
      undoStack = undoStack.concat([{ id: row.id, url: row.review_url, title: row.title, previous: previous }]).slice(-50);
      save(UNDO_KEY, undoStack);
      status.textContent = "Saved: " + row.title + " " + answer.review +
        (answer.anomaly_class ? " as " + answer.anomaly_class : "") + " (u undoes it).";
      advance();
    } catch (error) {
      status.textContent = "Not saved: " + error.message;
    } finally {
      saving = false;
      renderUndo();
    }
  }
  async function undo() {
    if (saving || !undoStack.length) return;
    const last = undoStack[undoStack.length - 1];
    saving = true;
    renderUndo();
    status.textContent = "Undoing…";
    try {
      const answer = await send(last.url, last.previous);
      undoStack = undoStack.slice(0, -1);
      save(UNDO_KEY, undoStack);
      const index = rows.findIndex((row) => row.id === last.id);
      if (index < 0) return go(location.href);  // on another page: this one shows it again if it belongs here
      apply(rows[index], answer);
      done.delete(last.id);
      skipped.delete(last.id);
      save(SKIP_KEY, Array.from(skipped));
      select(index);
      status.textContent = "Undone: " + last.title + " is " + answer.review + " again.";
    } catch (error) {
      status.textContent = "Not undone: " + error.message;
    } finally {
      saving = false;
      renderUndo();
    }
  }

  // --- wiring ---------------------------------------------------------------------------------------------
  if (!rows.length) { document.body.dataset.inboxReady = "1"; return; }
  tableRows.forEach((tr, id) => tr.addEventListener("click", (ev) => {
    if (!ev.target.closest("a")) select(rows.findIndex((row) => row.id === id));
  }));
  const click = (id, action) => { if (byId(id)) byId(id).addEventListener("click", action); };
  click("confirm-event", () => verdict("confirmed"));
  click("dismiss-event", () => verdict("dismissed"));
  click("undo-verdict", undo);
  click("next-event", () => step(1));
  click("prev-event", () => step(-1));
  if (classSelect) classSelect.addEventListener("change", () => classSelect.blur());  // keys act on the event again

  document.addEventListener("keydown", (ev) => {
    const typing = ev.target.closest && ev.target.closest("input, textarea, select");
    if (typing) { if (ev.key === "Escape") ev.target.blur(); return; }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (classSelect && /^[1-9]$/.test(ev.key)) {
      const option = classSelect.options[Number(ev.key)];  // option 0 is "no class"
      if (option) { ev.preventDefault(); classSelect.value = option.value; }
      return;
    }
    const actions = {
      c: () => verdict("confirmed"), d: () => verdict("dismissed"), u: undo,
      n: () => step(1), p: () => step(-1), o: () => go(rows[current].open_url),
    };
    const action = actions[ev.key];
    if (action) { ev.preventDefault(); action(); }
  });

  renderUndo();
  if (undoStack.length) status.textContent = "Last verdict: " + undoStack[undoStack.length - 1].title + " (u undoes it).";
  const first = rows.findIndex(pending);
  select(first >= 0 ? first : 0);
  document.body.dataset.inboxReady = "1";
})();
