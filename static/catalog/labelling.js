// The video page: whole-video label, anomalous intervals on a timeline, keyboard shortcuts.
// Edits are saved with fetch() to the catalog's JSON endpoints; the CSRF token comes from the cookie.
// One interval is "selected" (the last added, or the row clicked): digits give it a class, e edits it.
// A label that would delete intervals (normal on an anomalous video) is asked about first; the server
// refuses it (409) without that consent, so the page only ever shows what was saved.
(function () {
  "use strict";
  const root = document.getElementById("labeller");
  if (!root) return;

  const player = document.getElementById("player");
  const timeline = document.getElementById("timeline");
  const bars = timeline.querySelector(".timeline-intervals");
  const pending = timeline.querySelector(".timeline-pending");
  const head = timeline.querySelector(".timeline-head");
  const startInput = document.getElementById("mark-start");
  const endInput = document.getElementById("mark-end");
  const classInput = document.getElementById("interval-class");
  const errorBox = document.getElementById("interval-error");
  const statusBox = document.getElementById("label-status");
  const rows = document.getElementById("interval-rows");
  const noIntervals = document.getElementById("no-intervals");
  const canEdit = root.dataset.canEdit === "1";
  const fps = parseFloat(root.dataset.fps) || 25;
  let intervals = JSON.parse(document.getElementById("intervals-data").textContent);
  const classes = JSON.parse(document.getElementById("class-data").textContent);
  const confirmBox = document.getElementById("label-confirm");
  let selectedId = null;
  let editingId = null;

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  async function send(url, body) {
    const response = await fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    });
    let data = {};
    try { data = await response.json(); } catch (e) { /* an HTML error page */ }
    if (!response.ok) {
      const error = new Error(data.error || `the server answered ${response.status}`);
      error.data = data;
      throw error;
    }
    return data;
  }

  function duration() {
    if (player && isFinite(player.duration) && player.duration > 0) return player.duration;
    return parseFloat(root.dataset.duration) || 0;
  }

  function percent(seconds) {
    const total = duration();
    return total > 0 ? Math.min(100, Math.max(0, (seconds / total) * 100)) : 0;
  }

  function fmt(seconds) { return Number(seconds).toFixed(2); }

  function showLabel(data) {
    document.querySelectorAll("#label-buttons button").forEach((b) => {
      b.setAttribute("aria-pressed", String(b.dataset.label === data.label));
    });
    statusBox.textContent = data.status + " Saved.";  // the server's sentence: never at odds with the buttons
  }

  function render() {
    bars.replaceChildren();
    rows.replaceChildren();
    intervals.sort((a, b) => a.start - b.start);
    for (const interval of intervals) {
      const bar = document.createElement("div");
      bar.className = "timeline-bar";
      bar.style.left = percent(interval.start) + "%";
      bar.style.width = Math.max(0.4, percent(interval.end) - percent(interval.start)) + "%";
      bar.title = `${fmt(interval.start)}–${fmt(interval.end)} s ${interval.anomaly_class}`;
      bar.textContent = interval.anomaly_class;  // the class on the bar itself
      bar.classList.toggle("selected", interval.id === selectedId);
      bars.appendChild(bar);

      const row = document.createElement("tr");
      row.dataset.intervalId = interval.id;
      row.classList.toggle("selected", interval.id === selectedId);
      row.addEventListener("click", (e) => { if (!e.target.closest("button, input")) select(interval.id); });
      if (interval.id === editingId) { rows.appendChild(editorRow(row, interval)); continue; }
      for (const text of [fmt(interval.start), fmt(interval.end), interval.anomaly_class || "–", interval.created_by || ""]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.appendChild(cell);
      }
      const actions = document.createElement("td");
      const seek = document.createElement("button");
      seek.type = "button";
      seek.textContent = "Go";
      seek.setAttribute("aria-label", `Go to ${fmt(interval.start)} s`);
      seek.addEventListener("click", () => { if (player) player.currentTime = interval.start; });
      actions.appendChild(seek);
      if (canEdit) {
        const edit = document.createElement("button");
        edit.type = "button";
        edit.textContent = "Edit";
        edit.setAttribute("aria-label", `Edit interval ${fmt(interval.start)}–${fmt(interval.end)} s`);
        edit.addEventListener("click", () => startEditing(interval.id));
        actions.appendChild(edit);
        const remove = document.createElement("button");
        remove.type = "button";
        remove.className = "danger";
        remove.textContent = "Delete";
        remove.setAttribute("aria-label", `Delete interval ${fmt(interval.start)}–${fmt(interval.end)} s`);
        remove.addEventListener("click", () => deleteInterval(interval.id));
        actions.appendChild(remove);
      }
      row.appendChild(actions);
      rows.appendChild(row);
    }
    noIntervals.hidden = intervals.length > 0;
    renderPending();
  }

  function renderPending() {
    const start = startInput ? parseFloat(startInput.value) : NaN;
    if (isNaN(start)) { pending.hidden = true; return; }
    const end = parseFloat(endInput.value);
    const stop = isNaN(end) ? (player ? player.currentTime : start) : end;
    pending.hidden = false;
    pending.style.left = percent(Math.min(start, stop)) + "%";
    pending.style.width = Math.max(0.4, Math.abs(percent(stop) - percent(start))) + "%";
  }

  function now() { return player ? player.currentTime : 0; }

  async function setLabel(label, discard) {
    if (!canEdit) return;
    if (label !== "anomalous" && intervals.length && discard !== true) {
      askBeforeDiscarding(label, intervals.length);  // the server would refuse it (409) until confirmed
      return;
    }
    try {
      showLabel(await send(root.dataset.labelUrl, { label, discard_intervals: discard === true }));
      if (discard === true) { intervals = []; selectedId = null; editingId = null; render(); }
    } catch (err) {
      if (err.data && err.data.needs_confirm) askBeforeDiscarding(label, err.data.interval_count);
      else statusBox.textContent = "Not saved: " + err.message;
    }
  }

  // The server said the label would delete intervals: ask, in the page, with "keep them" focused.
  function askBeforeDiscarding(label, count) {
    const noun = count === 1 ? "interval" : "intervals";
    document.getElementById("label-confirm-text").textContent =
      `This video has ${count} anomalous ${noun}. Marking it ${label} deletes ${count === 1 ? "it" : "them"}.`;
    document.getElementById("label-confirm-yes").textContent = `Mark ${label}, delete the ${noun}`;
    document.getElementById("label-confirm-no").textContent = count === 1 ? "Keep it" : "Keep them";
    confirmBox.dataset.label = label;
    confirmBox.showModal();
    document.getElementById("label-confirm-no").focus();
  }
  if (confirmBox) {
    document.getElementById("label-confirm-yes").addEventListener("click", () => {
      confirmBox.close();
      setLabel(confirmBox.dataset.label, true);
    });
    document.getElementById("label-confirm-no").addEventListener("click", () => {
      confirmBox.close();
      statusBox.textContent = "Label unchanged; the intervals are kept.";
    });
  }

  // --- selecting and editing intervals -----------------------------------------------------------------
  function select(id) {
    selectedId = id;
    rows.querySelectorAll("tr").forEach((r) => r.classList.toggle("selected", Number(r.dataset.intervalId) === id));
    const at = intervals.findIndex((i) => i.id === id);
    bars.querySelectorAll(".timeline-bar").forEach((b, i) => b.classList.toggle("selected", i === at));
  }

  function moveSelection(direction) {
    if (!intervals.length) return;
    const at = intervals.findIndex((i) => i.id === selectedId);
    const next = at < 0 ? (direction > 0 ? 0 : intervals.length - 1) : Math.min(intervals.length - 1, Math.max(0, at + direction));
    select(intervals[next].id);
  }

  async function saveInterval(id, changes) {
    errorBox.textContent = "";
    try {
      const data = await send(root.dataset.updateUrl.replace("/0/", `/${id}/`), changes);
      intervals = intervals.map((i) => (i.id === id ? data.interval : i));
      editingId = null;
      selectedId = id;
      render();
      return true;
    } catch (err) {
      errorBox.textContent = "Interval not saved: " + err.message;
      return false;
    }
  }

  function setClassByKey(digit) {
    if (!canEdit || selectedId === null) return;
    const name = digit === 0 ? "" : classes[digit - 1];
    if (name === undefined) return;
    saveInterval(selectedId, { anomaly_class: name });
  }

  function startEditing(id) {
    if (!canEdit) return;
    editingId = id;
    selectedId = id;
    render();
    const first = rows.querySelector("tr.editing input");
    if (first) first.focus();
  }

  function editorRow(row, interval) {
    row.classList.add("editing");
    const fields = {};
    const make = (name, value, attrs) => {
      const cell = document.createElement("td");
      const input = document.createElement("input");
      Object.assign(input, attrs, { value });
      input.dataset.field = name;
      input.setAttribute("aria-label", name.replace("anomaly_class", "class"));
      cell.appendChild(input);
      row.appendChild(cell);
      fields[name] = input;
    };
    make("start", fmt(interval.start), { type: "number", step: "0.01", min: "0" });
    make("end", fmt(interval.end), { type: "number", step: "0.01", min: "0" });
    make("anomaly_class", interval.anomaly_class, { type: "text", maxLength: 60 });
    fields.anomaly_class.setAttribute("list", "class-suggestions");
    row.appendChild(document.createElement("td"));
    const actions = document.createElement("td");
    const save = () => saveInterval(interval.id, { start: fields.start.value, end: fields.end.value,
      anomaly_class: fields.anomaly_class.value });
    const cancel = () => { editingId = null; errorBox.textContent = ""; render(); };
    for (const [text, action, css] of [["Save", save, "primary"], ["Cancel", cancel, ""]]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = text;
      if (css) button.className = css;
      button.addEventListener("click", action);
      actions.appendChild(button);
    }
    row.appendChild(actions);
    row.addEventListener("keydown", (e) => {
      if (e.key === "Enter") { e.preventDefault(); save(); }
      else if (e.key === "Escape") { e.preventDefault(); cancel(); }
    });
    return row;
  }

  async function addInterval() {
    errorBox.textContent = "";
    const body = { start: startInput.value, end: endInput.value, anomaly_class: classInput.value };
    if (body.start === "" || body.end === "") {
      errorBox.textContent = "Mark a start and an end first ([ and ] while playing).";
      return;
    }
    try {
      const data = await send(root.dataset.intervalsUrl, body);
      intervals.push(data.interval);
      selectedId = data.interval.id;  // ready for a class key
      showLabel(data);
      startInput.value = "";
      endInput.value = "";
      render();
    } catch (err) {
      errorBox.textContent = "Interval not saved: " + err.message;
    }
  }

  async function deleteInterval(id) {
    try {
      await send(root.dataset.deleteUrl.replace("/0/", `/${id}/`));
      intervals = intervals.filter((i) => i.id !== id);
      if (selectedId === id) selectedId = null;
      render();
    } catch (err) {
      errorBox.textContent = "Not deleted: " + err.message;
    }
  }

  function markStart() { startInput.value = fmt(now()); endInput.value = ""; renderPending(); }
  function markEnd() { endInput.value = fmt(now()); renderPending(); addInterval(); }

  function step(frames) {
    if (!player) return;
    player.pause();
    player.currentTime = Math.min(duration(), Math.max(0, player.currentTime + frames / fps));
  }

  function togglePlay() {
    if (!player) return;
    if (player.paused) player.play(); else player.pause();
  }

  document.querySelectorAll("#label-buttons button").forEach((b) => {
    b.addEventListener("click", () => setLabel(b.dataset.label));
  });
  if (canEdit) {
    document.getElementById("mark-start-button").addEventListener("click", markStart);
    document.getElementById("mark-end-button").addEventListener("click", markEnd);
    document.getElementById("interval-form").addEventListener("submit", (e) => { e.preventDefault(); addInterval(); });
    startInput.addEventListener("input", renderPending);
    endInput.addEventListener("input", renderPending);
  }

  // Click the timeline to seek; drag across it to draw an interval (saved at once, like [ then ]).
  function timeAt(clientX) {
    const box = timeline.getBoundingClientRect();
    return Math.min(1, Math.max(0, (clientX - box.left) / box.width)) * duration();
  }
  let dragFrom = null;
  timeline.addEventListener("pointerdown", (e) => {
    if (!duration()) return;
    dragFrom = { x: e.clientX, t: timeAt(e.clientX) };
    timeline.setPointerCapture(e.pointerId);
  });
  timeline.addEventListener("pointermove", (e) => {
    if (!dragFrom || !canEdit || Math.abs(e.clientX - dragFrom.x) < 6) return;
    const [a, b] = [dragFrom.t, timeAt(e.clientX)].sort((x, y) => x - y);
    startInput.value = fmt(a);
    endInput.value = fmt(b);
    renderPending();
  });
  timeline.addEventListener("pointerup", (e) => {
    if (!dragFrom) return;
    const dragged = Math.abs(e.clientX - dragFrom.x) >= 6;
    if (dragged && canEdit) addInterval();
    else if (player) player.currentTime = timeAt(e.clientX);
    dragFrom = null;
  });

  if (player) {
    const readout = document.getElementById("current-time");
    const tick = () => {
      head.style.left = percent(player.currentTime) + "%";
      readout.textContent = fmt(player.currentTime);
      renderPending();
    };
    player.addEventListener("timeupdate", tick);
    player.addEventListener("seeked", tick);
    player.addEventListener("loadedmetadata", () => {
      document.getElementById("total-time").textContent = fmt(duration());
      render();
    });
  }

  const keys = {
    " ": togglePlay,
    ",": () => step(-1),
    ".": () => step(1),
    "[": () => canEdit && markStart(),
    "]": () => canEdit && markEnd(),
    n: () => setLabel("normal"),
    a: () => setLabel("anomalous"),
    j: () => { if (root.dataset.nextUrl) window.location.href = root.dataset.nextUrl; },
    e: () => { if (selectedId !== null) startEditing(selectedId); },
    ArrowUp: () => moveSelection(-1),
    ArrowDown: () => moveSelection(1),
  };
  for (let digit = 0; digit <= 9; digit++) keys[String(digit)] = () => setClassByKey(digit);
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    if (confirmBox && confirmBox.open) return;  // the dialog's own buttons take the keys
    const action = keys[e.key];
    if (!action || (e.key.startsWith("Arrow") && !intervals.length)) return;
    // Space on a focused button would also click it; the shortcut wins on this page.
    e.preventDefault();
    action();
  });

  // Still ingesting: wait for the browser copy, then reload to get the player.
  const missing = document.getElementById("player-missing");
  if (missing && ["uploaded", "ingesting"].includes(missing.dataset.status)) {
    const check = async () => {
      try {
        const response = await fetch(missing.dataset.statusUrl, { credentials: "same-origin" });
        const mine = (await response.json()).videos.find((v) => String(v.id) === missing.dataset.videoId);
        if (mine && !["uploaded", "ingesting"].includes(mine.status)) { window.location.reload(); return; }
      } catch (e) { /* try again below */ }
      setTimeout(check, 3000);
    };
    setTimeout(check, 3000);
  }

  render();
})();
