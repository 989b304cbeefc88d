// The compare view: side by side, swipe (the reference revealed from the left up to the slider) or blink
// (today and the reference alternating), with the change heatmap over both. Keys: s swipe, b blink, h heatmap.
(function () {
  "use strict";
  const box = document.getElementById("compare");
  if (!box) return;
  const modes = document.querySelectorAll("#compare-modes button");
  const swipe = document.getElementById("compare-swipe");
  const swipeControl = document.getElementById("swipe-control");
  const heat = document.getElementById("compare-heatmap");
  const opacity = document.getElementById("compare-opacity");
  const reference = document.getElementById("panel-reference");
  const blinkState = document.getElementById("blink-state");
  const blinkWhich = document.getElementById("blink-which");
  const BLINK_MS = 700;
  let timer = null;
  let showingReference = false;

  function showBlink(onReference) {
    showingReference = onReference;
    box.classList.toggle("show-reference", onReference);
    blinkWhich.textContent = onReference ? "reference" : "today";
  }

  function setSwipe() {
    // The reference covers today's frame from the left edge to the slider.
    reference.style.clipPath = box.dataset.mode === "swipe" ? "inset(0 " + (100 - Number(swipe.value)) + "% 0 0)" : "";
  }

  function setMode(mode) {
    box.dataset.mode = mode;
    modes.forEach(function (b) { b.setAttribute("aria-pressed", String(b.dataset.mode === mode)); });
    swipeControl.hidden = mode !== "swipe";
    blinkState.hidden = mode !== "blink";
    clearInterval(timer);
    timer = null;
    showBlink(false);
    if (mode === "blink") timer = setInterval(function () { showBlink(!showingReference); }, BLINK_MS);
    setSwipe();
  }

  function setHeat() {
    const shown = heat ? heat.checked : false;
    box.querySelectorAll(".compare-heat").forEach(function (img) {
      img.hidden = !shown;
      img.style.opacity = opacity ? opacity.value : "0.55";
    });
  }

  modes.forEach(function (b) { b.addEventListener("click", function () { setMode(b.dataset.mode); }); });
  swipe.addEventListener("input", setSwipe);
  if (heat) heat.addEventListener("change", setHeat);
  if (opacity) opacity.addEventListener("input", setHeat);
  document.addEventListener("keydown", function (e) {
    if (e.target.closest("input, textarea, select") && e.target.type !== "checkbox" && e.target.type !== "range") return;
    if (e.key === "s") setMode(box.dataset.mode === "swipe" ? "side" : "swipe");
    else if (e.key === "b") setMode(box.dataset.mode === "blink" ? "side" : "blink");
    else if (e.key === "h" && heat) { heat.checked = !heat.checked; setHeat(); }
  });
  setHeat();
  setMode("side");
})();
