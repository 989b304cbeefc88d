/* The live page: Server-Sent Events drive the picture, the score timeline, the state and the alert list. */
(function () {
  "use strict";
  var root = document.getElementById("live");
  if (!root) return;
  var WINDOW = 120; // seconds of scores on the timeline
  var frame = document.getElementById("live-frame");
  var line = document.getElementById("live-line");
  var thresholdLine = document.getElementById("live-threshold");
  var list = document.getElementById("live-alert-list");
  var count = document.getElementById("live-alert-count");
  var stateBadge = document.getElementById("live-state");
  var clock = document.getElementById("live-clock");
  var gapsText = document.getElementById("live-gaps");
  var posesText = document.getElementById("live-poses");
  var matching = document.getElementById("live-matching");
  var soundButton = document.getElementById("live-sound");
  var notifyButton = document.getElementById("live-notify");
  var points = [], threshold = null, sound = false, frameBusy = false;

  function refreshFrame() {
    if (frameBusy) return; // never queue requests behind a slow one: the newest frame is all that matters
    frameBusy = true;
    var next = new Image();
    next.onload = function () { frame.src = next.src; frameBusy = false; };
    next.onerror = function () { frameBusy = false; };
    next.src = root.dataset.frame + "?at=" + Date.now();
  }

  function drawScores() {
    if (!points.length) return;
    var newest = points[points.length - 1].time;
    points = points.filter(function (p) { return p.time >= newest - WINDOW; });
    // The axis grows with the flight up to WINDOW seconds, then scrolls.
    var left = Math.max(0, newest - WINDOW), span = Math.max(30, newest - left);
    var top = Math.max(threshold === null ? 1 : threshold * 1.5, Math.max.apply(null, points.map(function (p) { return p.score; })));
    var bottom = Math.min(0, Math.min.apply(null, points.map(function (p) { return p.score; })));
    function y(v) { return 118 - 116 * (v - bottom) / ((top - bottom) || 1); }
    line.setAttribute("points", points.map(function (p) {
      return (640 * (p.time - left) / span).toFixed(1) + "," + y(p.score).toFixed(1);
    }).join(" "));
    if (threshold !== null) { thresholdLine.setAttribute("y1", y(threshold)); thresholdLine.setAttribute("y2", y(threshold)); }
  }

  function beep() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    var audio = new Context(), osc = audio.createOscillator(), gain = audio.createGain();
    osc.frequency.value = 880; gain.gain.value = 0.2;
    osc.connect(gain); gain.connect(audio.destination);
    osc.start(); osc.stop(audio.currentTime + 0.35);
  }

  function showAlert(alert) {
    var item = list.querySelector('li[data-event="' + alert.event + '"]');
    var fresh = !item;
    if (fresh) {
      var empty = list.querySelector("li.empty");
      if (empty) empty.remove();
      item = document.createElement("li");
      item.dataset.event = alert.event;
      item.className = "fresh";
      list.insertBefore(item, list.firstChild);
      count.textContent = list.querySelectorAll("li[data-event]").length;
    }
    item.textContent = "";
    var link = document.createElement("a");
    link.href = alert.url;
    var chip = document.createElement("span");
    chip.className = "level-chip";
    chip.style.background = alert.level_colour || "#999";
    link.appendChild(chip);
    link.appendChild(document.createTextNode(" " + (alert.detector ? alert.detector + ": " : "") + (alert.level_text || "alert") + " at " + alert.peak_time.toFixed(1) + " s"));
    var detail = document.createElement("small");
    detail.className = "muted";
    detail.textContent = " #" + alert.event + ", " + alert.start.toFixed(1) + "–" + alert.end.toFixed(1) + " s" + (alert.state === "open" ? ", ongoing" : "");
    item.appendChild(link); item.appendChild(detail);
    if (fresh && alert.state === "open") {
      if (sound) beep();
      if (window.Notification && Notification.permission === "granted") {
        var note = new Notification("Skerry alert" + (alert.detector ? " (" + alert.detector + ")" : "") + ": " + (alert.level_text || "") + " at " + alert.peak_time.toFixed(1) + " s");
        note.onclick = function () { window.open(alert.url); };
      }
    }
  }

  function showTelemetry(t) {
    posesText.textContent = t.poses ? t.poses + " pose" + (t.poses === 1 ? "" : "s") + " received" : "none received";
    if (typeof t.change_compared === "number" && t.change_compared > 0) {
      document.getElementById("live-by-telemetry").textContent = t.change_by_telemetry;
      document.getElementById("live-compared").textContent = t.change_compared;
      matching.hidden = false;
    }
  }

  function showState(message) {
    if (message.state && stateBadge) {
      stateBadge.className = "badge live-state state-" + message.state;
      stateBadge.textContent = message.state.charAt(0).toUpperCase() + message.state.slice(1);
    }
    if (typeof message.recorded === "number") clock.textContent = message.recorded.toFixed(1) + " s recorded";
    if (message.gaps) {
      gapsText.textContent = message.gaps.length ? message.gaps.map(function (g) {
        return g.at.toFixed(1) + " s (" + Math.round(g.seconds) + " s" + (g.reason ? ", " + g.reason : "") + ")";
      }).join("; ") : "none";
    }
    if (message.telemetry) showTelemetry(message.telemetry);
    if (message.state === "ended" || message.state === "failed") {
      source.close();
      // The page came while the stream ran: load it again for the final alerts, the recording and the form.
      if (root.dataset.active === "1") window.setTimeout(function () { window.location.reload(); }, 500);
    }
  }

  var history = JSON.parse(document.getElementById("live-history").textContent);
  threshold = history.threshold;
  points = history.times.map(function (t, i) { return { time: t, score: history.scores[i] }; });
  drawScores();

  var source = new EventSource(root.dataset.events);
  source.addEventListener("score", function (e) {
    var m = JSON.parse(e.data);
    refreshFrame();
    if (typeof m.score === "number") {
      threshold = m.threshold;
      points.push({ time: m.time, score: m.score });
      drawScores();
    }
  });
  source.addEventListener("alert", function (e) { showAlert(JSON.parse(e.data)); });
  source.addEventListener("state", function (e) { showState(JSON.parse(e.data)); });

  soundButton.addEventListener("click", function () {
    sound = !sound;
    soundButton.setAttribute("aria-pressed", String(sound));
    soundButton.textContent = sound ? "Sound on alert: on" : "Sound on alert";
    if (sound) beep();
  });
  notifyButton.addEventListener("click", function () {
    if (!window.Notification) { notifyButton.textContent = "Notifications unsupported"; return; }
    Notification.requestPermission().then(function (p) {
      notifyButton.textContent = p === "granted" ? "Desktop notifications: on" : "Notifications blocked";
    });
  });
})();
