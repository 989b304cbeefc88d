// The mission page's upload box: several files at once, a progress bar each, resumable through tus.js.
// Telemetry sidecars (.SRT, .GPX, .CSV) chosen with the videos are sent once the video of the same file name
// stem (DJI_0042.MP4 for DJI_0042.SRT) is uploaded, as a plain POST; the server matches them by that name.
(function () {
  "use strict";
  const box = document.getElementById("upload");
  if (!box || !window.SkerryTus) return;
  const input = document.getElementById("upload-files");
  const list = document.getElementById("upload-list");
  const dropzone = box.querySelector(".dropzone");
  const maxSize = parseInt(box.dataset.maxSize, 10);
  const chunkSize = parseInt(box.dataset.chunkSize, 10);
  const telemetryMaxSize = parseInt(box.dataset.telemetryMaxSize, 10);
  const SIDECAR = /\.(srt|gpx|csv)$/i;
  const state = (window.skerryUploads = { active: 0 });

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  // What a video and its sidecar share, as the server compares it: the name without its extension, any case.
  function stemOf(name) {
    const dot = name.lastIndexOf(".");
    return (dot > 0 ? name.slice(0, dot) : name).toLowerCase();
  }

  function sizeText(bytes) {
    const units = ["bytes", "KB", "MB", "GB", "TB"];
    let size = bytes, unit = 0;
    while (size >= 1000 && unit < units.length - 1) { size /= 1000; unit += 1; }
    return unit === 0 ? `${size} bytes` : `${size.toFixed(1)} ${units[unit]}`;
  }

  function addRow(file) {
    const item = document.createElement("li");
    item.className = "upload";
    const name = document.createElement("span");
    name.className = "upload-name";
    name.textContent = file.name;  // textContent: a file name is never parsed as HTML
    const bar = document.createElement("progress");
    bar.max = 1;
    bar.value = 0;
    bar.setAttribute("aria-label", `Upload progress of ${file.name}`);
    const status = document.createElement("span");
    status.className = "upload-status";
    status.setAttribute("role", "status");
    item.append(name, bar, status);
    list.prepend(item);
    return { item, bar, status };
  }

  async function upload(file) {
    const row = addRow(file);
    if (file.size > maxSize) {
      row.item.classList.add("failed");
      row.status.textContent = `Too large: ${sizeText(file.size)}, the limit is ${sizeText(maxSize)}.`;
      return;
    }
    const started = Date.now();
    const job = new window.SkerryTus.TusUpload(file, {
      endpoint: box.dataset.endpoint,
      chunkSize,
      onStatus: (text) => { row.status.textContent = text; },
      onProgress: (sent, total) => {
        row.bar.value = total ? sent / total : 1;
        const rate = sent / Math.max(1, (Date.now() - started) / 1000);
        row.status.textContent = sent >= total
          ? "Checking the video…"
          : `${sizeText(sent)} of ${sizeText(total)} · ${sizeText(rate)}/s`;
      },
    });
    state.active += 1;
    row.status.textContent = "Starting…";
    try {
      const result = await job.start();
      row.item.classList.add("done");
      row.bar.value = 1;
      row.status.replaceChildren("Uploaded. ");
      if (result.videoUrl) {
        const link = document.createElement("a");
        link.href = result.videoUrl;
        link.textContent = "Open the video";
        row.status.append(link, " · ingest has started.");
      }
    } catch (err) {
      row.item.classList.add("failed");
      row.status.textContent = err.final ? `Rejected: ${err.message}` : `Paused: ${err.message}`;
    } finally {
      state.active -= 1;
      if (window.skerryVideoTable) window.skerryVideoTable.refreshSoon();
    }
  }

  function showAttached(row, data) {
    row.item.classList.add("done");
    row.bar.value = 1;
    const link = document.createElement("a");
    link.href = data.video_url;
    link.textContent = data.video_name;
    row.status.replaceChildren("Telemetry of ", link, `: ${data.pose_count} poses.`);
  }

  // Send a sidecar once `ready` (the uploads of its videos in this batch) has settled.
  async function attachSidecar(file, ready) {
    const row = addRow(file);
    row.item.classList.add("sidecar");
    if (file.size > telemetryMaxSize) {
      row.item.classList.add("failed");
      row.status.textContent = `Too large: ${sizeText(file.size)}, the telemetry limit is ${sizeText(telemetryMaxSize)}.`;
      return;
    }
    state.active += 1;
    row.status.textContent = "Waiting for its video…";
    try {
      await ready;
      row.status.textContent = "Reading the telemetry…";
      const body = new FormData();
      body.append("file", file);
      const response = await fetch(box.dataset.telemetryEndpoint, {
        method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() }, body,
      });
      let data = {};
      try { data = await response.json(); } catch (e) { /* an HTML error page */ }
      if (response.ok) {
        showAttached(row, data);
      } else {
        row.item.classList.add("failed");
        row.status.textContent = `Not attached: ${data.telemetry_error || data.error || `the server answered ${response.status}`}`;
      }
    } catch (err) {
      row.item.classList.add("failed");
      row.status.textContent = `Not attached: ${err.message}. Add it from the video's page.`;
    } finally {
      state.active -= 1;
    }
  }

  function take(files) {
    const chosen = Array.from(files);
    const uploads = chosen.filter((file) => !SIDECAR.test(file.name)).map((file) => {
      const waiting = list.querySelector(`li.unfinished[data-name="${CSS.escape(file.name)}"]`);
      if (waiting) waiting.remove();
      return { stem: stemOf(file.name), done: upload(file) };
    });
    chosen.filter((file) => SIDECAR.test(file.name)).forEach((file) => {
      const videos = uploads.filter((u) => u.stem === stemOf(file.name)).map((u) => u.done);
      attachSidecar(file, Promise.all(videos));
    });
  }

  // Uploads this browser left unfinished here (a reload, a crash): say how far each got.
  async function showUnfinished() {
    const prefix = `tus::${box.dataset.endpoint}::`;
    for (let i = 0; i < localStorage.length; i += 1) {
      const key = localStorage.key(i);
      if (!key || !key.startsWith(prefix)) continue;
      const parts = key.slice(prefix.length).split("::");  // name (may hold "::"), size, lastModified
      parts.pop();
      const size = parts.pop();
      const name = parts.join("::");
      let response;
      try {
        response = await fetch(localStorage.getItem(key), { method: "HEAD", headers: { "Tus-Resumable": "1.0.0" } });
      } catch (e) { continue; }
      if (!response.ok) { localStorage.removeItem(key); continue; }
      const offset = parseInt(response.headers.get("Upload-Offset"), 10);
      const row = addRow({ name });
      row.item.classList.add("unfinished");
      row.item.dataset.name = name;
      row.bar.value = offset / Number(size);
      row.status.textContent = `Unfinished: ${sizeText(offset)} of ${sizeText(Number(size))}. Choose this file again to resume.`;
    }
  }

  input.addEventListener("change", () => { take(input.files); input.value = ""; });
  dropzone.addEventListener("dragover", (e) => { e.preventDefault(); dropzone.classList.add("over"); });
  dropzone.addEventListener("dragleave", () => dropzone.classList.remove("over"));
  dropzone.addEventListener("drop", (e) => {
    e.preventDefault();
    dropzone.classList.remove("over");
    take(e.dataTransfer.files);
  });
  showUnfinished();
  window.addEventListener("beforeunload", (e) => {
    if (state.active > 0) { e.preventDefault(); e.returnValue = ""; }
  });
})();
