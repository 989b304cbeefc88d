// The video page's flight readout: the drone's position, heights and heading at the player's time.
// The pose table is fetched once; each time the player moves, the pose is interpolated between the two poses
// around it (clamped to the first and last), heading on the circle, as PoseTable.at does on the server, and
// shown in the same format as webapp.catalog.telemetry.pose_readout.
(function () {
  "use strict";
  const box = document.getElementById("flight");
  const player = document.getElementById("player");
  if (!box) return;
  const clock = document.getElementById("flight-time");
  const fields = {};
  box.querySelectorAll("[data-pose]").forEach((el) => { fields[el.dataset.pose] = el; });
  const COMPASS = ["N", "NE", "E", "SE", "S", "SW", "W", "NW"];
  let poses = null;

  // The index i with time[i] <= t < time[i + 1] (t inside the table).
  function bracket(times, t) {
    let low = 0, high = times.length - 1;
    while (high - low > 1) {
      const middle = (low + high) >> 1;
      if (times[middle] <= t) low = middle; else high = middle;
    }
    return low;
  }

  function blend(a, b, w) { return a === null || b === null ? null : a + (b - a) * w; }

  function poseAt(t) {
    const times = poses.time;
    const last = times.length - 1;
    const clamped = Math.min(times[last], Math.max(times[0], t));
    const i = last === 0 ? 0 : bracket(times, clamped);
    const j = Math.min(i + 1, last);
    const w = j === i ? 0 : (clamped - times[i]) / (times[j] - times[i]);
    const pose = {};
    for (const name of ["latitude", "longitude", "rel_alt", "abs_alt", "pitch"]) {
      pose[name] = blend(poses[name][i], poses[name][j], w);
    }
    const [a, b] = [poses.yaw[i], poses.yaw[j]];
    if (a === null || b === null) {
      pose.yaw = null;
    } else {
      const rad = Math.PI / 180;
      const sin = blend(Math.sin(a * rad), Math.sin(b * rad), w);
      const cos = blend(Math.cos(a * rad), Math.cos(b * rad), w);
      pose.yaw = Math.atan2(sin, cos) / rad;
    }
    return pose;
  }

  function heading(yaw) {
    const h = ((yaw % 360) + 360) % 360;
    return `${h.toFixed(1).padStart(5, "0")}° ${COMPASS[Math.round(h / 45) % 8]}`;
  }

  const formats = {
    latitude: (v) => `${v.toFixed(6)}°`,
    longitude: (v) => `${v.toFixed(6)}°`,
    rel_alt: (v) => `${v.toFixed(1)} m`,
    abs_alt: (v) => `${v.toFixed(1)} m`,
    heading: (v) => heading(v),
    pitch: (v) => `${v.toFixed(0)}°`,
  };

  function show() {
    if (!poses) return;
    const t = player ? player.currentTime : 0;
    const pose = poseAt(t);
    pose.heading = pose.yaw;
    for (const [name, el] of Object.entries(fields)) {
      const value = pose[name];
      el.textContent = value === null || value === undefined ? "–" : formats[name](value);
    }
    clock.textContent = t.toFixed(2);
  }

  // While playing, follow every painted frame; timeupdate alone comes only a few times a second.
  function follow() {
    show();
    if (player && !player.paused) requestAnimationFrame(follow);
  }

  async function load() {
    try {
      const response = await fetch(box.dataset.posesUrl, { credentials: "same-origin" });
      if (!response.ok) throw new Error(`the server answered ${response.status}`);
      poses = (await response.json()).columns;
    } catch (err) {
      box.dataset.state = "unavailable";
      clock.parentElement.textContent = `(the flight's poses could not be loaded: ${err.message})`;
      return;
    }
    box.dataset.state = "loaded";
    show();
  }

  if (player) {
    player.addEventListener("timeupdate", show);
    player.addEventListener("seeked", show);
    player.addEventListener("play", () => requestAnimationFrame(follow));
  }
  load();
})();
