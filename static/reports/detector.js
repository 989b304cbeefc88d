// Detector page: the threshold slider. One row of the evaluation's threshold table (curves.json, computed by
// detection.evaluation when the evaluate job ran) feeds the tiles, the confusion matrix and the markers on the
// ROC and PR curves, so they cannot disagree. The slider is linear in the threshold and snaps to the nearest
// threshold the table measured; "Use this threshold" posts that threshold.
(function () {
  "use strict";
  const source = document.getElementById("slider-data");
  const slider = document.getElementById("threshold-slider");
  if (!source || !slider) return;
  const table = JSON.parse(source.textContent);
  const count = table.thresholds.length;
  if (!count) return;
  let current = slider.dataset.index === undefined ? table.index : Number(slider.dataset.index);  // the server's choice

  const fixed = (value, digits) => (value === null || value === undefined ? "n/a" : Number(value).toFixed(digits));
  const short = (value) => Number(Number(value).toPrecision(4)).toString();
  const show = (id, text) => { const el = document.getElementById(id); if (el) el.textContent = text; };

  function fpr(i) {
    if (table.fpr) return table.fpr[i];
    const negatives = table.fp[i] + table.tn[i];
    return negatives ? table.fp[i] / negatives : null;
  }

  function nearest(value) {
    let best = 0;
    for (let i = 1; i < count; i++) {
      if (Math.abs(table.thresholds[i] - value) < Math.abs(table.thresholds[best] - value)) best = i;
    }
    return best;
  }

  const figure = (id) => document.querySelector(`[data-figure="${id}"]`);

  function moveMarker(id, x, y) {
    const element = figure(id);
    if (!element || !element.dataset.ready) return;
    const trace = element.data.findIndex((t) => t.meta && t.meta.role === "threshold");
    if (trace < 0) return;
    const shown = x !== null && y !== null;
    Plotly.restyle(element, { x: [[shown ? x : null]], y: [[shown ? y : null]] }, [trace]);
    element.dataset.markerX = shown ? x : "";
    element.dataset.markerY = shown ? y : "";
  }

  function moveConfusion(i) {
    const element = figure("fig-confusion");
    if (!element || !element.dataset.ready) return;
    const z = [[table.tp[i], table.fn[i]], [table.fp[i], table.tn[i]]];
    Plotly.update(element, { z: [z], text: [z.map((row) => row.map(String))] },
      { "title.text": "Confusion at threshold " + short(table.thresholds[i]) }, [0]);
    element.dataset.counts = [table.tp[i], table.fp[i], table.tn[i], table.fn[i]].join(" / ");
  }

  function moveFigures() {
    moveMarker("fig-roc", fpr(current), table.recall[current]);
    moveMarker("fig-pr", table.recall[current], table.precision[current]);
    moveConfusion(current);
  }

  function update() {
    const i = current, threshold = table.thresholds[i];
    slider.value = threshold;
    slider.setAttribute("aria-valuetext", "threshold " + short(threshold));
    slider.dataset.index = i;
    show("slider-threshold", short(threshold));
    show("slider-precision", fixed(table.precision[i], 3));
    show("slider-recall", fixed(table.recall[i], 3));
    show("slider-f1", fixed(table.f1[i], 3));
    show("slider-fpr", fixed(fpr(i), 3));
    show("slider-accuracy", fixed(table.accuracy[i], 3));
    show("slider-counts", [table.tp[i], table.fp[i], table.tn[i], table.fn[i]].join(" / "));
    const field = document.getElementById("use-threshold-value");
    const button = document.getElementById("use-threshold-button");
    if (field) field.value = threshold;
    if (button && !button.hasAttribute("data-busy")) {
      const own = slider.dataset.detectorThreshold;
      const same = own !== "" && Number(own) === threshold;
      button.textContent = same ? "This is its threshold" : "Use threshold " + short(threshold);
      button.disabled = same || button.hasAttribute("disabled-by-job");
    }
    moveFigures();
  }

  // Where the detector's own threshold sits on the linear scale (the slider's ends are the table's ends).
  const mark = document.getElementById("own-threshold-mark");
  const own = Number(slider.dataset.detectorThreshold);
  const low = Number(slider.min), high = Number(slider.max);
  if (mark && slider.dataset.detectorThreshold !== "" && high > low) {
    const share = Math.min(1, Math.max(0, (own - low) / (high - low)));
    mark.style.left = `calc(${(share * 100).toFixed(2)}% + ${(8 - 16 * share).toFixed(1)}px)`;  // thumb inset
  }

  const button = document.getElementById("use-threshold-button");
  if (button && button.disabled) button.setAttribute("disabled-by-job", "");
  slider.addEventListener("input", () => { current = nearest(Number(slider.value)); update(); });
  slider.addEventListener("keydown", (event) => {
    const step = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, Home: -count, End: count }[event.key];
    if (step === undefined) return;
    event.preventDefault();
    current = Math.min(count - 1, Math.max(0, current + step));
    update();
  });
  // The figures draw asynchronously (figures.js): place the markers as each one becomes ready.
  document.addEventListener("figure-ready", moveFigures);
  update();
})();
