// Detector page: the threshold slider shows the metrics the server computed at each of its thresholds.
(function () {
  "use strict";
  const source = document.getElementById("slider-data");
  const slider = document.getElementById("threshold-slider");
  if (!source || !slider) return;
  const table = JSON.parse(source.textContent);
  const show = (id, value) => { document.getElementById(id).textContent = value === null ? "n/a" : value; };
  const fixed = (value, digits) => (value === null || value === undefined ? null : Number(value).toFixed(digits));
  function update() {
    const i = Number(slider.value);
    show("slider-threshold", fixed(table.thresholds[i], 4));
    show("slider-precision", fixed(table.precision[i], 3));
    show("slider-recall", fixed(table.recall[i], 3));
    show("slider-f1", fixed(table.f1[i], 3));
    show("slider-accuracy", fixed(table.accuracy[i], 3));
    show("slider-counts", [table.tp[i], table.fp[i], table.tn[i], table.fn[i]].join(" / "));
  }
  slider.addEventListener("input", update);
  update();
})();
