// The video page: whole-video label, anomalous intervals on a timeline, keyboard shortcuts.
// Edits are saved with fetch() to the catalog's JSON endpoints; the CSRF token comes from the cookie.
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
    if (!response.ok) throw new Error(data.error || `the server answered ${response.status}`);
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
    const when = data.labelled_at ? new Date(data.labelled_at).toLocaleString() : "";
    statusBox.textContent = data.labelled_by
      ? `Labelled ${data.label_display.toLowerCase()} by ${data.labelled_by}, ${when}. Saved.`
      : "Not labelled yet.";
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
      bars.appendChild(bar);

      const row = document.createElement("tr");
      row.dataset.intervalId = interval.id;
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

  async function setLabel(label) {
    if (!canEdit) return;
    try { showLabel(await send(root.dataset.labelUrl, { label })); }
    catch (err) { statusBox.textContent = "Not saved: " + err.message; }
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
  };
  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const target = e.target;
    if (target.closest && target.closest("input, textarea, select, [contenteditable]")) return;
    const action = keys[e.key];
    if (!action) return;
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
