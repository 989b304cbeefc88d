// The area map's masks: "Draw a mask", then each click on the map (a press that does not move: a drag still pans)
// places a corner over the area mosaic, and the polygon is drawn as it grows (closed from its third corner). A
// click becomes map metres through plotly's own axes, the ones that draw the markers; the server turns the metres
// into latitudes and longitudes with the mosaic's origin and stores a ground mask (webapp/maps/drawing.py), and
// its answer redraws the outlines. The list under the map names the area's ground masks; an analyst deletes one
// there through the area page's delete endpoint.
(function () {
  "use strict";
  const byId = (id) => document.getElementById(id);
  const tools = byId("mask-tools");
  if (!tools) return;
  const plot = byId("map");
  const data = JSON.parse(byId("map-data").textContent);
  const editable = tools.dataset.editable === "1";
  const list = byId("map-mask-list");
  const status = byId("mask-status");
  const drawButton = byId("mask-draw");
  const drawingTools = byId("mask-drawing-tools");
  const nameInput = byId("mask-name");
  const saveButton = byId("mask-save");
  const undoButton = byId("mask-undo");
  const cancelButton = byId("mask-cancel");
  const CLICK_SLOP = 4;  // screen pixels a press may move and still be a click, not a pan
  const SAME_CORNER = 3;  // screen pixels: a second click this close to the last corner (a double click) adds none
  let masks = data.masks || [];
  let corners = [];
  let press = null;

  function say(text) { if (status) status.textContent = text; }

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    }).then((response) => response.json().catch(() => ({})).then((answer) => {
      if (!response.ok) throw new Error(answer.error || "the server answered " + response.status);
      return answer;
    }));
  }

  function plural(count, one, many) { return count + " " + (count === 1 ? one : many); }

  // --- the outlines and the list ------------------------------------------------------------------------------
  function indicesOf(role) {
    return plot.data.map((t, i) => (t.meta && t.meta.role === role ? i : -1)).filter((i) => i >= 0);
  }

  function showMasks() {
    const old = indicesOf("mask");
    const removed = old.length ? Plotly.deleteTraces(plot, old) : Promise.resolve();
    return removed.then(() => masks.length && Plotly.addTraces(plot, masks.map(window.skerryMap.maskTrace),
                                                                masks.map((_, i) => i)))  // under the markers
      .then(renderList);
  }

  function renderList() {
    if (!list) return;
    list.replaceChildren();
    masks.forEach((mask) => {
      const item = document.createElement("li");
      item.textContent = mask.name + " (" + (mask.x.length - 1) + " corners) ";
      item.dataset.mask = mask.id;
      if (editable) {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "Delete";
        remove.setAttribute("aria-label", "Delete " + mask.name);
        remove.addEventListener("click", () => removeMask(mask));
        item.appendChild(remove);
      }
      list.appendChild(item);
    });
    byId("map-mask-count").textContent = String(masks.length);
    byId("map-masks-none").hidden = masks.length > 0;
  }

  function removeMask(mask) {
    if (!window.confirm("Delete the mask “" + mask.name + "”?")) return;
    post(tools.dataset.deleteUrl.replace(/\/0\/delete$/, "/" + mask.id + "/delete"))
      .then(() => { masks = masks.filter((m) => m.id !== mask.id); return showMasks(); })
      .then(() => say("Mask “" + mask.name + "” deleted: videos scored from now on are no longer masked there."))
      .catch((error) => say("Could not delete the mask: " + error.message));
  }

  // --- drawing ----------------------------------------------------------------------------------------------
  // The map point (metres east, north) under a screen point, or null outside the plotting area.
  function mapPoint(clientX, clientY) {
    const xaxis = plot._fullLayout.xaxis, yaxis = plot._fullLayout.yaxis, box = plot.getBoundingClientRect();
    const px = clientX - box.left - xaxis._offset, py = clientY - box.top - yaxis._offset;
    if (px < 0 || px > xaxis._length || py < 0 || py > yaxis._length) return null;
    return [xaxis.p2d(px), yaxis.p2d(py)];
  }

  function onMosaic(point) {
    const m = data.mosaic;
    return point[0] >= m.x && point[0] <= m.x + m.width && point[1] <= m.y && point[1] >= m.y - m.height;
  }

  function nearLastCorner(clientX, clientY) {
    if (!corners.length) return false;
    const xaxis = plot._fullLayout.xaxis, yaxis = plot._fullLayout.yaxis, box = plot.getBoundingClientRect();
    const last = corners[corners.length - 1];
    const dx = box.left + xaxis._offset + xaxis.d2p(last[0]) - clientX;
    const dy = box.top + yaxis._offset + yaxis.d2p(last[1]) - clientY;
    return Math.hypot(dx, dy) < SAME_CORNER;
  }

  function showCorners() {
    const shown = corners.length >= 3 ? corners.concat([corners[0]]) : corners;  // closed from the third corner
    Plotly.restyle(plot, { x: [shown.map((p) => p[0])], y: [shown.map((p) => p[1])] }, indicesOf("drawing"));
    saveButton.disabled = corners.length < 3;
    undoButton.disabled = corners.length === 0;
    tools.dataset.corners = String(corners.length);
  }

  function addCorner(clientX, clientY) {
    const point = mapPoint(clientX, clientY);
    if (!point || nearLastCorner(clientX, clientY)) return;
    if (!onMosaic(point)) {
      say("That point is outside the area mosaic: a mask is drawn over the mosaic.");
      return;
    }
    corners.push([Math.round(point[0] * 100) / 100, Math.round(point[1] * 100) / 100]);
    say(plural(corners.length, "corner", "corners") + (corners.length < 3 ? ": at least 3 make a mask." :
      ". Name it and save, or go on clicking."));
    showCorners();
  }

  // Plotly counts two presses within its double-click delay anywhere on the map as a double click and resets the
  // view: two corners placed quickly would move the map under the third. No double click while drawing.
  let doubleClick = null;

  function startDrawing() {
    corners = [];
    doubleClick = plot._context.doubleClick;
    plot._context.doubleClick = false;
    plot.dataset.drawing = "1";
    plot.classList.add("drawing");
    drawButton.hidden = true;
    drawingTools.hidden = false;
    Plotly.addTraces(plot, { type: "scatter", mode: "lines+markers", x: [], y: [], fill: "toself",
                             fillcolor: "rgba(240, 160, 40, 0.3)", hoverinfo: "skip", showlegend: false,
                             meta: { role: "drawing" }, line: { color: "#f0a028", width: 2, dash: "dash" },
                             marker: { size: 9, color: "#f0a028", line: { color: "#fff", width: 1.5 } } })
      .then(showCorners);
    say("Click the map to place the corners around the place (drag to pan, scroll to zoom).");
  }

  function stopDrawing() {
    corners = [];
    if (doubleClick !== null) plot._context.doubleClick = doubleClick;
    delete plot.dataset.drawing;
    plot.classList.remove("drawing");
    drawButton.hidden = false;
    drawingTools.hidden = true;
    nameInput.value = "";
    delete tools.dataset.corners;
    const drawingTrace = indicesOf("drawing");
    return drawingTrace.length ? Plotly.deleteTraces(plot, drawingTrace) : Promise.resolve();
  }

  function saved(answer) {
    masks = answer.masks;
    const shown = new Set(data.events.map((e) => e.id));
    const here = answer.inside.filter((id) => shown.has(id)).length;
    const elsewhere = answer.inside.length - here;
    const share = answer.ground_share;
    say("Mask “" + answer.mask.name + "” saved on the ground: from now on, scoring raises no event inside it. " +
        (answer.inside.length ? plural(here, "event on this map lies", "events on this map lie") + " there" +
          (elsewhere ? " (and " + plural(elsewhere, "other event", "other events") + " of the area)" : "") +
          ": events already raised stay until their video is scored again, and reviewed ones stay. " : "") +
        (share ? "The area's masks cover " + Math.round(share.mean * 100) + "% of a frame of " + share.video +
          " on average, up to " + Math.round(share.max * 100) + "%." : ""));
    tools.dataset.saved = String(answer.mask.id);
    return stopDrawing().then(showMasks);
  }

  function save() {
    saveButton.disabled = true;
    post(tools.dataset.url, { points: corners, name: nameInput.value, mosaic: data.mosaic.job })
      .then(saved)
      .catch((error) => { say("Could not save the mask: " + error.message); saveButton.disabled = corners.length < 3; });
  }

  function whenPlotted(then) {
    if (plot.dataset.ready === "1") { then(); return; }
    new MutationObserver((_, observer) => {
      if (plot.dataset.ready === "1") { observer.disconnect(); then(); }
    }).observe(plot, { attributes: true, attributeFilter: ["data-ready"] });
  }

  whenPlotted(() => {
    renderList();
    if (!editable || !drawButton || !data.mosaic) return;
    drawButton.disabled = false;
    drawButton.addEventListener("click", startDrawing);
    undoButton.addEventListener("click", () => { corners.pop(); say(plural(corners.length, "corner", "corners"));
                                                 showCorners(); });
    cancelButton.addEventListener("click", () => { stopDrawing(); say(""); });
    saveButton.addEventListener("click", save);
    nameInput.addEventListener("keydown", (e) => { if (e.key === "Enter" && !saveButton.disabled) save(); });
    document.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && plot.dataset.drawing === "1") { stopDrawing(); say(""); }
    });
    plot.addEventListener("pointerdown", (e) => {  // a mouse, a pen or a finger
      press = plot.dataset.drawing === "1" && e.button === 0 && !e.target.closest(".modebar")
        ? { x: e.clientX, y: e.clientY } : null;
    }, true);
    document.addEventListener("pointerup", (e) => {  // plotly takes the drag; a press that did not move is a click
      const at = press;
      press = null;
      if (at && plot.dataset.drawing === "1" && Math.hypot(e.clientX - at.x, e.clientY - at.y) <= CLICK_SLOP) {
        addCorner(at.x, at.y);
      }
    }, true);
  });
})();
