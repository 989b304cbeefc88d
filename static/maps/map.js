// Mission and area maps: the area mosaic (tiles.js) under the flight tracks (coloured by time) and the
// event markers (coloured by level, shaped by review state). Clicking a marker opens the review page at the
// event's peak; clicking a track plays that flight from there, and the drone's marker follows the player. The
// area's masks fixed to the ground are outlined underneath (on the area map, draw.js draws new ones).
// Data comes from a json element (the CSP forbids inline scripts); coordinates are metres east and north.
(function () {
  "use strict";
  const byId = (id) => document.getElementById(id);
  const data = JSON.parse(byId("map-data").textContent);
  const plot = byId("map");
  const player = byId("map-player");
  const flightSelect = byId("map-flight");
  const SYMBOLS = { unreviewed: "circle", confirmed: "diamond", dismissed: "x" };
  const traces = [];

  // A mask fixed to the ground as an outline (draw.js adds the ones drawn on the area map the same way).
  function maskTrace(mask) {
    return { type: "scatter", mode: "lines", x: mask.x, y: mask.y, fill: "toself", name: mask.name,
             meta: { role: "mask", id: mask.id }, showlegend: false,
             hovertemplate: "mask: " + mask.name.replace(/%/g, "%%") + "<extra></extra>",
             fillcolor: "rgba(240, 160, 40, 0.25)", line: { color: "#ffd27a", width: 2 } };
  }
  window.skerryMap = { maskTrace: maskTrace };
  (data.masks || []).forEach((mask) => traces.push(maskTrace(mask)));  // under everything else

  data.tracks.forEach((track) => {  // a faint line under each track's time-coloured points
    traces.push({ type: "scatter", mode: "lines", x: track.x, y: track.y, hoverinfo: "skip", showlegend: false,
                  line: { color: "rgba(255,255,255,0.55)", width: 1.5 }, meta: { role: "track-line" } });
  });
  data.tracks.forEach((track, index) => {
    const end = track.t.length ? track.t[track.t.length - 1] : 1;
    traces.push({
      type: "scatter", mode: "markers", name: track.name, x: track.x, y: track.y, customdata: track.t,
      meta: { role: "track", index: index },
      marker: { size: 4, color: track.t, colorscale: "Viridis", cmin: 0, cmax: end, showscale: index === 0,
                colorbar: { title: { text: "s into flight" }, thickness: 12, len: 0.5, y: 0.75 } },
      hovertemplate: "%{customdata:.0f} s into " + track.name.replace(/%/g, "%%") + "<extra></extra>",
    });
  });
  Object.keys(SYMBOLS).forEach((state) => {
    const events = data.events.filter((e) => e.review === state);
    if (!events.length) return;
    traces.push({
      type: "scatter", mode: "markers", name: state + " events", meta: { role: "events", state: state },
      x: events.map((e) => e.x), y: events.map((e) => e.y), customdata: events.map((e) => e.url),
      text: events.map((e) => [
        "level " + e.level_text + " · " + state + (e["class"] ? " · " + e["class"] : ""),
        e.detector + " · " + e.video + " at " + e.time.toFixed(1) + " s",
        e.mission + " · " + e.date, e.lat.toFixed(6) + ", " + e.lon.toFixed(6)].join("<br>")),
      hovertemplate: "%{text}<extra></extra>",
      marker: { symbol: SYMBOLS[state], size: 15, color: events.map((e) => e.colour),
                line: { color: "#111", width: 1.5 } },
    });
  });
  traces.push({ type: "scatter", mode: "markers", name: "drone", x: [null], y: [null], hoverinfo: "skip",
                meta: { role: "drone" }, showlegend: false,
                marker: { symbol: "triangle-up", size: 17, color: "#ffffff", line: { color: "#000", width: 2 } } });

  function extent() {
    const xs = [], ys = [];
    data.tracks.forEach((t) => { xs.push(...t.x); ys.push(...t.y); });
    data.events.forEach((e) => { xs.push(e.x); ys.push(e.y); });
    (data.masks || []).forEach((mask) => { xs.push(...mask.x); ys.push(...mask.y); });
    const m = data.mosaic;
    if (!xs.length && m) { xs.push(m.x, m.x + m.width); ys.push(m.y - m.height, m.y); }
    if (!xs.length) return null;
    const pad = (lo, hi) => { const p = Math.max((hi - lo) * 0.12, 40); return [lo - p, hi + p]; };
    return { x: pad(Math.min(...xs), Math.max(...xs)), y: pad(Math.min(...ys), Math.max(...ys)) };
  }

  const box = extent();
  const mosaic = data.mosaic;
  const layout = {
    margin: { l: 55, r: 10, t: 30, b: 45 }, hovermode: "closest", dragmode: "pan", showlegend: true,
    legend: { orientation: "h", x: 0, y: 1.01, yanchor: "bottom" },
    plot_bgcolor: mosaic ? "#1c2228" : "#f4f6f7",
    xaxis: { title: { text: "metres east" }, zeroline: false, showgrid: !mosaic, range: box ? box.x : undefined },
    yaxis: { title: { text: "metres north" }, zeroline: false, showgrid: !mosaic, scaleanchor: "x", scaleratio: 1,
             range: box ? box.y : undefined },
    images: window.skerryMosaic.images(mosaic),  // tiles.js: more tiles follow the view once it is drawn
  };

  // --- the player: the drone's marker follows the chosen flight's playback ---------------------------------
  function currentTrack() {
    return flightSelect ? data.tracks[Number(flightSelect.value)] : null;
  }

  function positionAt(track, t) {
    const times = track.t;
    if (!times.length) return null;
    if (t <= times[0]) return [track.x[0], track.y[0]];
    const last = times.length - 1;
    if (t >= times[last]) return [track.x[last], track.y[last]];
    let lo = 0, hi = last;
    while (hi - lo > 1) { const mid = (lo + hi) >> 1; if (times[mid] <= t) lo = mid; else hi = mid; }
    const f = (t - times[lo]) / (times[hi] - times[lo]);
    return [track.x[lo] + f * (track.x[hi] - track.x[lo]), track.y[lo] + f * (track.y[hi] - track.y[lo])];
  }

  function follow() {
    const track = currentTrack();
    if (!track || !player) return;
    const at = positionAt(track, player.currentTime || 0);
    const drone = plot.data.findIndex((t) => t.meta && t.meta.role === "drone");  // masks may come and go
    if (at) Plotly.restyle(plot, { x: [[at[0]]], y: [[at[1]]] }, [drone]);
  }

  function loadFlight(seekTo) {
    const track = currentTrack();
    if (!track || !player) return;
    const note = byId("player-note");
    if (!track.proxy) {
      player.removeAttribute("src");
      if (note) note.textContent = "This flight has no browser proxy to play; open its review page instead.";
      return;
    }
    if (player.getAttribute("src") !== track.proxy) player.src = track.proxy;
    if (seekTo !== undefined) {
      const go = () => { player.currentTime = seekTo; follow(); };
      if (player.readyState >= 1) go(); else player.addEventListener("loadedmetadata", go, { once: true });
    }
    follow();
  }

  Plotly.newPlot(plot, traces, layout, { responsive: true, displaylogo: false, scrollZoom: true }).then(() => {
    window.skerryMosaic.follow(plot, mosaic);
    plot.on("plotly_click", (ev) => {
      if (!ev.points || !ev.points.length || plot.dataset.drawing === "1") return;  // draw.js takes the clicks
      const marker = ev.points.find((p) => p.data.meta && p.data.meta.role === "events");
      if (marker) { window.location.assign(marker.customdata); return; }
      const onTrack = ev.points.find((p) => p.data.meta && p.data.meta.role === "track");
      if (onTrack && flightSelect) {
        flightSelect.value = String(onTrack.data.meta.index);
        loadFlight(Number(onTrack.customdata));
      }
    });
    plot.dataset.ready = "1";
    loadFlight();
  });
  if (player) {
    ["timeupdate", "seeked", "loadedmetadata"].forEach((name) => player.addEventListener(name, follow));
  }
  if (flightSelect) flightSelect.addEventListener("change", () => loadFlight(0));
})();
