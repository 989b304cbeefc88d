// Review page: the proxy player beside the score timeline. Clicking the timeline seeks the player, the
// cursor follows playback, the heatmap of the nearest sampled frame is drawn over the video, and events are
// confirmed (c) or dismissed (d) with fetch(). Data comes from json elements; the CSP forbids inline scripts.
(function () {
  "use strict";
  const byId = (id) => document.getElementById(id);
  const data = JSON.parse(byId("review-data").textContent);
  const focus = JSON.parse(byId("review-focus").textContent);
  const figure = JSON.parse(byId("timeline-figure").textContent);
  const plot = byId("timeline");
  const video = byId("player");
  const still = byId("still");
  const canvas = byId("heatmap-canvas");
  const toggle = byId("heatmap-toggle");
  const opacity = byId("heatmap-opacity");
  const runSelect = byId("heatmap-run");
  const note = byId("review-note");
  const status = byId("review-status");
  const events = data.events.slice().sort((a, b) => a.start - b.start || a.id - b.id);
  let selected = -1;
  let stillTime = 0;

  function decode(spec) {
    const binary = atob(spec.bdata);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return new Float32Array(bytes.buffer);
  }
  data.tracks.forEach((track) => { track.t = decode(track.times); track.s = decode(track.scores); });
  const trackByRun = new Map(data.tracks.map((t) => [t.run, t]));

  function nearest(times, t) {
    let lo = 0, hi = times.length - 1;
    if (hi < 0) return -1;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (times[mid] < t) lo = mid + 1; else hi = mid; }
    if (lo > 0 && t - times[lo - 1] < times[lo] - t) return lo - 1;
    return lo;
  }

  // --- timeline ---------------------------------------------------------------------------------------
  const cursorShape = figure.layout.shapes.length - 1;
  const frameTraces = [];
  figure.data.forEach((trace, i) => { if (trace.meta && trace.meta.role === "frames") frameTraces.push([i, trace.meta.row]); });
  let cursorQueued = null;
  function moveCursor(t) {
    const first = cursorQueued === null;
    cursorQueued = t;
    if (!first) return;
    requestAnimationFrame(() => {
      const update = {};
      update["shapes[" + cursorShape + "].x0"] = cursorQueued;
      update["shapes[" + cursorShape + "].x1"] = cursorQueued;
      cursorQueued = null;
      Plotly.relayout(plot, update);
    });
  }

  // Min/max per pixel column of what is visible, from the full-resolution arrays sent once with the page.
  function envelope(track, x0, x1, columns) {
    const i0 = Math.max(0, nearest(track.t, x0) - 1), i1 = Math.min(track.t.length, nearest(track.t, x1) + 2);
    const count = i1 - i0;
    if (count <= columns * 2) return [Array.from(track.t.subarray(i0, i1)), Array.from(track.s.subarray(i0, i1))];
    const size = Math.ceil(count / columns), xs = [], ys = [];
    for (let start = i0; start < i1; start += size) {
      let lo = start, hi = start;
      for (let i = start; i < Math.min(i1, start + size); i++) {
        if (track.s[i] < track.s[lo]) lo = i;
        if (track.s[i] > track.s[hi]) hi = i;
      }
      for (const i of lo <= hi ? [lo, hi] : [hi, lo]) { xs.push(track.t[i]); ys.push(track.s[i]); }
    }
    return [xs, ys];
  }

  function redraw(range) {
    const columns = Math.max(200, plot.clientWidth);
    const xs = [], ys = [], indices = [];
    frameTraces.forEach(([index, row]) => {
      const track = data.tracks[row];
      const span = range || [track.t[0], track.t[track.t.length - 1]];
      const [x, y] = envelope(track, span[0], span[1], columns);
      xs.push(x); ys.push(y); indices.push(index);
    });
    if (indices.length) Plotly.restyle(plot, { x: xs, y: ys }, indices);
  }

  // The time under a mouse event on the plot, from the x axis's pixel scale; null when off the plot area.
  function clickedTime(mouse) {
    const axis = plot._fullLayout && plot._fullLayout.xaxis;
    if (!mouse || !axis || typeof axis.p2d !== "function") return null;
    const box = plot.getBoundingClientRect();
    const t = axis.p2d(mouse.clientX - box.left - axis._offset);
    const [lo, hi] = axis.range;
    return Number.isFinite(t) ? Math.min(Math.max(t, Math.min(lo, hi), 0), Math.max(lo, hi)) : null;
  }

  function seek(t) {
    t = Math.max(0, t);
    if (video) video.currentTime = t;
    else { stillTime = t; showStill(t); }
    moveCursor(t);
    drawHeatmap(t);
    selectAt(t);
  }

  // WebGL traces (scattergl) keep long series smooth. They need WebGL, and plotly.js compiles their shaders
  // with new Function, which the page's CSP must allow ('unsafe-eval' on this page only). Where either is
  // missing, the same aggregated points are drawn as SVG lines: a few thousand per trace, still quick.
  function webglUsable() {
    try {
      const canvas = document.createElement("canvas");
      if (!(canvas.getContext("webgl") || canvas.getContext("experimental-webgl"))) return false;
      return new Function("return true")();
    } catch (e) { return false; }
  }
  const webgl = webglUsable();
  if (!webgl) figure.data.forEach((trace) => { if (trace.type === "scattergl") trace.type = "scatter"; });
  plot.dataset.renderer = webgl ? "webgl" : "svg";

  Plotly.newPlot(plot, figure.data, figure.layout, { responsive: true, displaylogo: false }).then(() => {
    plot.on("plotly_click", (ev) => {
      if (!ev.points || !ev.points.length) return;
      // Seek to where the pointer is, not to the nearest plotted point (an envelope point or a peak marker
      // can be seconds away on a long video). A peak marker under the pointer also selects its event.
      const t = clickedTime(ev.event);
      const point = ev.points.find((p) => p.data.meta && p.data.meta.role === "events");
      if (point) select(events.findIndex((e) => e.id === point.customdata), false);
      seek(t !== null ? t : Number(ev.points[0].x));
    });
    plot.on("plotly_relayout", (ev) => {
      if ("xaxis.range[0]" in ev) redraw([ev["xaxis.range[0]"], ev["xaxis.range[1]"]]);
      else if ("xaxis.autorange" in ev || "xaxis.range" in ev) redraw(ev["xaxis.range"] || null);
    });
    plot.dataset.ready = "1";
    start();
  });

  // --- heatmap overlay --------------------------------------------------------------------------------
  const heatmapImage = new Image();
  let heatmapKey = "";
  function contentBox() {
    const box = (video || still).getBoundingClientRect();
    const w = video ? video.videoWidth : still.naturalWidth, h = video ? video.videoHeight : still.naturalHeight;
    if (!w || !h) return { x: 0, y: 0, w: box.width, h: box.height, box };
    const scale = Math.min(box.width / w, box.height / h);
    return { x: (box.width - w * scale) / 2, y: (box.height - h * scale) / 2, w: w * scale, h: h * scale, box };
  }
  function paintHeatmap() {
    const area = contentBox();
    canvas.width = Math.round(area.box.width); canvas.height = Math.round(area.box.height);
    const ctx = canvas.getContext("2d");
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    if (!toggle.checked || !heatmapImage.complete || !heatmapImage.naturalWidth) return;
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(heatmapImage, area.x, area.y, area.w, area.h);
  }
  heatmapImage.addEventListener("load", paintHeatmap);
  function drawHeatmap(t) {
    canvas.style.opacity = opacity.value;
    const track = runSelect && trackByRun.get(Number(runSelect.value));
    const link = byId("heatmap-view-link");
    const anyTrack = track || data.tracks[0];
    if (anyTrack) link.href = data.urls.heatmap_view.replace("/0/frames/0/", "/" + anyTrack.run + "/frames/" + nearest(anyTrack.t, t) + "/");
    if (!toggle.checked || !track) { heatmapKey = ""; paintHeatmap(); return; }
    const index = nearest(track.t, t);
    const key = track.run + ":" + index;
    if (key === heatmapKey) return;
    heatmapKey = key;
    heatmapImage.src = data.urls.heatmap.replace("/0/heatmaps/0.png", "/" + track.run + "/heatmaps/" + index + ".png");
  }
  function showStill(t) {
    const track = data.tracks[0];
    if (!still || !track) return;
    still.src = data.urls.frame.replace("/0/frames/0/", "/" + track.run + "/frames/" + nearest(track.t, t) + "/");
  }
  toggle.addEventListener("change", () => { heatmapKey = ""; drawHeatmap(now()); });
  opacity.addEventListener("input", () => { canvas.style.opacity = opacity.value; });
  if (runSelect) runSelect.addEventListener("change", () => drawHeatmap(now()));
  window.addEventListener("resize", paintHeatmap);
  const now = () => (video ? video.currentTime : stillTime);

  // --- events -----------------------------------------------------------------------------------------
  const rows = new Map(Array.from(document.querySelectorAll("#event-table tr[data-event]")).map((r) => [Number(r.dataset.event), r]));
  // Events go by their number (#id) everywhere: this page, the mission report and the exports.
  function describe(event) {
    const track = trackByRun.get(event.run);
    return "Event #" + event.id + " (" + (selected + 1) + " of " + events.length + "): " + event.start.toFixed(1) + "–" +
      event.end.toFixed(1) + " s, " + (track ? track.detector : "") + ", level " + event.level_text + " (score " +
      event.peak_score.toFixed(3) + "), " + event.review;
  }
  function showNote(event) {  // the saved note, as saved, with who reviewed and when
    const box = byId("event-note");
    if (!box) return;
    box.hidden = !event.note;
    const who = event.reviewer ? " — " + event.reviewer + (event.reviewed_at ? ", " + new Date(event.reviewed_at).toLocaleString() : "") : "";
    box.textContent = event.note ? "Saved note: “" + event.note + "”" + who : "";
  }
  function select(index, jump) {
    if (index < 0 || index >= events.length) return;
    selected = index;
    const event = events[index];
    byId("event-info").textContent = describe(event);
    const compare = byId("compare-link");
    if (compare) {  // a CHANGE event: today's frame beside the reference flight's
      compare.hidden = !event.compare;
      compare.href = event.compare || "#";
    }
    const own = trackByRun.get(event.run);
    if (runSelect && own && own.has_heatmaps && runSelect.value !== String(event.run)) {
      runSelect.value = String(event.run);  // the heatmap of the detector that flagged this event
      drawHeatmap(now());
    }
    if (note) note.value = event.note || "";
    showNote(event);
    rows.forEach((row, id) => row.classList.toggle("selected", id === event.id));
    if (jump) seek(event.start);
  }
  const covers = (e, t) => t >= e.start - 0.25 && t <= e.end + 0.25;
  function selectAt(t) {
    if (selected >= 0 && covers(events[selected], t)) return;  // keep what the analyst chose among overlaps
    const inside = events.findIndex((e) => covers(e, t));
    if (inside >= 0 && inside !== selected) select(inside, false);
  }
  function step(direction) {
    const t = now();
    if (selected >= 0 && Math.abs(t - events[selected].start) < 0.6) return select(selected + direction, true);
    const candidates = direction > 0 ? events.findIndex((e) => e.start > t + 0.05)
      : events.map((e) => e.start < t - 0.05).lastIndexOf(true);
    select(candidates, true);
  }
  rows.forEach((row, id) => row.addEventListener("click", () => select(events.findIndex((e) => e.id === id), true)));
  byId("next-event").addEventListener("click", () => step(1));
  byId("prev-event").addEventListener("click", () => step(-1));

  function csrfToken() {
    const field = document.querySelector("#review-form [name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }
  async function review(verdict) {
    if (selected < 0 || !note) return;
    const event = events[selected];
    status.textContent = "Saving…";
    const response = await fetch(data.urls.review.replace("/0/", "/" + event.id + "/"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ review: verdict, note: note.value }),
    });
    const body = await response.json().catch(() => ({ error: "HTTP " + response.status }));
    if (!response.ok) { status.textContent = "Not saved: " + (body.error || response.status); return; }
    Object.assign(event, { review: body.review, note: body.note, reviewer: body.reviewer, reviewed_at: body.reviewed_at });
    status.textContent = "Saved: event #" + event.id + " " + body.review + ".";
    const row = rows.get(event.id);
    if (row) {
      row.className = "state-" + body.review + " selected";
      row.querySelector(".review-state").textContent = body.review;
      row.querySelector(".review-note").textContent = body.note.length > 60 ? body.note.slice(0, 59) + "…" : body.note;
    }
    byId("event-info").textContent = describe(event);
    showNote(event);
    recolour(event);
  }
  // The review changes how an event is drawn, never its colour (its level): the same table as the server's.
  const style = data.review_style;
  function rgba(hex, alpha) {
    const n = parseInt((hex || "#6b6b6b").slice(1), 16);
    return "rgba(" + (n >> 16) + ", " + ((n >> 8) & 255) + ", " + (n & 255) + ", " + alpha + ")";
  }
  function recolour(event) {
    const index = plot.layout.shapes.findIndex((s) => s.name === "event-" + event.id);
    if (index >= 0) {
      const update = {};
      update["shapes[" + index + "].fillcolor"] = rgba(event.colour, style.alpha[event.review]);
      Plotly.relayout(plot, update);
    }
    plot.data.forEach((trace, i) => {
      const at = trace.meta && trace.meta.role === "events" ? Array.from(trace.customdata).indexOf(event.id) : -1;
      if (at < 0) return;
      const opacity = Array.from(trace.marker.opacity), lineColour = Array.from(trace.marker.line.color);
      const lineWidth = Array.from(trace.marker.line.width);
      opacity[at] = style.opacity[event.review];
      lineColour[at] = style.outline[event.review].color;
      lineWidth[at] = style.outline[event.review].width;
      Plotly.restyle(plot, { "marker.opacity": [opacity], "marker.line.color": [lineColour], "marker.line.width": [lineWidth] }, [i]);
    });
  }
  document.querySelectorAll(".interval-seek").forEach((b) => b.addEventListener("click", () => seek(Number(b.dataset.t))));
  const confirmButton = byId("confirm-event"), dismissButton = byId("dismiss-event");
  if (confirmButton) confirmButton.addEventListener("click", () => review("confirmed"));
  if (dismissButton) dismissButton.addEventListener("click", () => review("dismissed"));

  document.addEventListener("keydown", (ev) => {
    const typing = ev.target.closest && ev.target.closest("input[type=text], textarea, select");
    if (typing) { if (ev.key === "Escape") ev.target.blur(); return; }
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    if (ev.key === " " && ev.target.closest && ev.target.closest("video, button, a")) return;  // their own space
    const actions = {
      c: () => review("confirmed"), d: () => review("dismissed"), n: () => step(1), p: () => step(-1),
      h: () => { toggle.checked = !toggle.checked; toggle.dispatchEvent(new Event("change")); },
      " ": () => { if (video) { if (video.paused) video.play(); else video.pause(); } },
    };
    const action = actions[ev.key];
    if (action) { ev.preventDefault(); action(); }
  });

  // --- playback ---------------------------------------------------------------------------------------
  function start() {
    if (video) {
      const follow = () => { moveCursor(video.currentTime); drawHeatmap(video.currentTime); selectAt(video.currentTime); };
      video.addEventListener("timeupdate", follow);
      video.addEventListener("seeked", follow);
      video.addEventListener("loadedmetadata", () => { heatmapKey = ""; drawHeatmap(video.currentTime); });
    } else if (still) {
      still.addEventListener("load", paintHeatmap);
    }
    const first = events.findIndex((e) => e.id === focus.event);
    if (first >= 0) { select(first, false); seek(focus.t !== null ? focus.t : events[first].start); }
    else seek(focus.t || 0);
    document.body.dataset.reviewReady = "1";
  }
})();
