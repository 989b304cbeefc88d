// The mission page: keep each video's status current while uploads are ingested, without a reload.
(function () {
  "use strict";
  const table = document.getElementById("video-table");
  if (!table) return;
  const busy = new Set(["uploaded", "ingesting"]);
  let timer = null;

  function rowFor(id) { return table.querySelector(`tr[data-video-id="${id}"]`); }

  async function poll() {
    timer = null;
    let data;
    try {
      const response = await fetch(table.dataset.statusUrl, { credentials: "same-origin" });
      if (!response.ok) return schedule(15000);
      data = await response.json();
    } catch (e) { return schedule(15000); }
    let changedShape = false;
    for (const video of data.videos) {
      const row = rowFor(video.id);
      if (!row) { changedShape = true; continue; }
      const badge = row.querySelector('[data-field="status"]');
      if (badge.textContent !== video.status_display) {
        if (badge.className.includes("status-ready") !== (video.status === "ready")) changedShape = true;
        badge.textContent = video.status_display;
        badge.className = "badge status-" + video.status;
      }
    }
    // New videos or finished ingests bring thumbnails and durations: reload, but never mid-upload, and
    // never over a rejection message the analyst has still to read (offer a link instead).
    if (changedShape && !(window.skerryUploads && window.skerryUploads.active > 0)) {
      if (!document.querySelector("#upload-list .upload.failed")) {
        window.location.reload();
        return;
      }
      offerReload();
    }
    if (changedShape || data.videos.some((v) => busy.has(v.status))) schedule(3000);
  }

  function offerReload() {
    if (document.getElementById("reload-videos")) return;
    const note = document.createElement("p");
    note.id = "reload-videos";
    note.className = "notice";
    const link = document.createElement("a");
    link.href = window.location.pathname;
    link.textContent = "Show the new videos";
    note.append("The list of videos has changed. ", link);
    table.closest(".table-wrap").before(note);
  }

  function schedule(ms) { if (!timer) timer = setTimeout(poll, ms); }

  window.skerryVideoTable = { refreshSoon: () => schedule(500) };
  if ([...table.querySelectorAll('[data-field="status"]')].some((b) => /status-(uploaded|ingesting)/.test(b.className))) {
    schedule(3000);
  }
})();
