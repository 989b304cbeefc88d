// The heatmap view: one image large, zoomed in the browser (slider, + / −, Ctrl + wheel at the pointer) and
// panned by dragging; the smaller panels below pick which image is large. No inline script (CSP).
(function () {
  "use strict";
  const stage = document.getElementById("stage");
  const image = document.getElementById("stage-image");
  const zoom = document.getElementById("zoom");
  const readout = document.getElementById("zoom-readout");
  const pickers = Array.from(document.querySelectorAll("#panel-picker button"));
  if (!stage || !image) return;

  function show(name) {
    const picked = pickers.find((b) => b.dataset.panel === name);
    if (!picked) return;
    pickers.forEach((b) => b.setAttribute("aria-pressed", String(b === picked)));
    image.src = picked.dataset.src;
    image.alt = picked.textContent.trim();
  }

  // Zoom about a point of the stage (its centre by default), keeping that point of the image in place.
  function setZoom(value, atX, atY) {
    const next = Math.min(Number(zoom.max), Math.max(Number(zoom.min), value));
    const before = Number(stage.dataset.zoom || 1);
    const x = atX === undefined ? stage.clientWidth / 2 : atX;
    const y = atY === undefined ? stage.clientHeight / 2 : atY;
    const fx = (stage.scrollLeft + x) / before, fy = (stage.scrollTop + y) / before;
    stage.dataset.zoom = String(next);
    image.style.width = next * 100 + "%";
    zoom.value = String(next);
    readout.textContent = next.toFixed(2).replace(/\.?0+$/, "") + "×";
    stage.scrollLeft = fx * next - x;
    stage.scrollTop = fy * next - y;
  }

  zoom.addEventListener("input", () => setZoom(Number(zoom.value)));
  document.getElementById("zoom-fit").addEventListener("click", () => setZoom(1));
  stage.addEventListener("wheel", (e) => {
    if (!e.ctrlKey) return;  // a plain wheel scrolls the page
    e.preventDefault();
    const box = stage.getBoundingClientRect();
    setZoom(Number(stage.dataset.zoom || 1) * (e.deltaY < 0 ? 1.25 : 0.8), e.clientX - box.left, e.clientY - box.top);
  }, { passive: false });

  let drag = null;
  stage.addEventListener("pointerdown", (e) => {
    drag = { x: e.clientX, y: e.clientY, left: stage.scrollLeft, top: stage.scrollTop };
    stage.setPointerCapture(e.pointerId);
    stage.classList.add("dragging");
  });
  stage.addEventListener("pointermove", (e) => {
    if (!drag) return;
    stage.scrollLeft = drag.left - (e.clientX - drag.x);
    stage.scrollTop = drag.top - (e.clientY - drag.y);
  });
  const stop = () => { drag = null; stage.classList.remove("dragging"); };
  stage.addEventListener("pointerup", stop);
  stage.addEventListener("pointercancel", stop);

  pickers.forEach((b) => b.addEventListener("click", () => show(b.dataset.panel)));
  document.querySelectorAll(".panel-thumb").forEach((b) => b.addEventListener("click", () => {
    show(b.dataset.panel);
    stage.scrollIntoView({ block: "nearest" });
  }));

  document.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (e.target.closest && e.target.closest("input, textarea, select")) return;
    const current = Number(stage.dataset.zoom || 1);
    const link = (id) => { const a = document.getElementById(id); if (a) window.location.href = a.href; };
    const actions = {
      "+": () => setZoom(current * 1.25), "=": () => setZoom(current * 1.25), "-": () => setZoom(current * 0.8),
      "0": () => setZoom(1), ArrowLeft: () => link("previous-frame"), ArrowRight: () => link("next-frame"),
    };
    pickers.forEach((b, i) => { actions[String(i + 1)] = () => show(b.dataset.panel); });
    const action = actions[e.key];
    if (action) { e.preventDefault(); action(); }
  });
  setZoom(1);
  document.body.dataset.heatmapReady = "1";
})();
