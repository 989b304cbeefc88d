// Live job lists: every .job-list polls jobs/status.json and redraws its rows; cancel/retry post in place.
(function () {
  "use strict";
  if (window.skerryJobLists) { return; }
  window.skerryJobLists = true;

  var FAST = 1000, SLOW = 3000;  // ms between polls while jobs are active, and while none is

  function seconds(s) {
    if (s === null || s === undefined) { return ""; }
    s = Math.round(s);
    if (s < 90) { return s + " s"; }
    if (s < 5400) { return Math.round(s / 60) + " min"; }
    return (s / 3600).toFixed(1) + " h";
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  }

  function actionForm(list, url, label, cls) {
    var form = el("form");
    form.method = "post";
    form.action = url;
    var token = el("input");
    token.type = "hidden";
    token.name = "csrfmiddlewaretoken";
    token.value = list.querySelector("input[name=csrfmiddlewaretoken]").value;
    var button = el("button", cls, label);
    button.type = "submit";
    form.appendChild(token);
    form.appendChild(button);
    return form;
  }

  function row(list, job) {
    var tr = el("tr", "job-row state-" + job.state);
    tr.dataset.jobId = job.id;
    var what = el("td");
    what.appendChild(el("strong", "", job.kind_label + " #" + job.id));
    if (job.target) {
      var target = el("div", "muted");
      if (job.target_url) {
        var link = el("a", "", job.target);
        link.href = job.target_url;
        target.appendChild(link);
      } else { target.textContent = job.target; }
      what.appendChild(target);
    }
    var state = el("td", "job-state state-" + job.state, job.state_label);
    if (job.attempts > 1) { state.appendChild(el("span", "muted", " (attempt " + job.attempts + ")")); }
    var progress = el("td");
    var bar = el("progress");
    bar.max = 1;
    bar.value = job.progress;
    bar.setAttribute("aria-label", "Progress of job " + job.id);
    progress.appendChild(bar);
    var stage = job.stage;
    if (job.state === "running" && job.eta_seconds) { stage += " · about " + seconds(job.eta_seconds) + " left"; }
    progress.appendChild(el("div", "job-stage", stage));
    if (job.error) { progress.appendChild(el("div", "job-error state-failed", job.error)); }
    if (job.output_url) {
      var output = el("a", "job-output", job.output_label);
      output.href = job.output_url;
      progress.appendChild(output);
    }
    var times = el("td", "job-times muted", "created " + job.created.replace("T", " ").slice(0, 19));
    if (job.duration_seconds !== null) { times.appendChild(el("div", "", "ran " + seconds(job.duration_seconds))); }
    if (job.worker) { times.appendChild(el("div", "", job.worker)); }
    var actions = el("td", "job-actions");
    if (job.can_cancel) { actions.appendChild(actionForm(list, job.cancel_url, "Cancel", "danger")); }
    if (job.can_retry) { actions.appendChild(actionForm(list, job.retry_url, "Retry", "")); }
    [what, state, progress, times, actions].forEach(function (td) { tr.appendChild(td); });
    return tr;
  }

  function statusUrl(list) {
    var filter = list.dataset.jobsFilter;
    if (!filter) {
      var ids = Array.prototype.map.call(list.querySelectorAll("tr[data-job-id]"), function (tr) {
        return tr.dataset.jobId;
      });
      filter = "ids=" + ids.join(",");
    }
    return list.dataset.jobsUrl + "?" + filter;
  }

  function redraw(list, jobs) {
    var body = list.querySelector("tbody");
    var rows = jobs.map(function (job) { return row(list, job); });
    if (!rows.length) {
      var empty = el("tr", "job-empty");
      var cell = el("td", "muted", "No jobs.");
      cell.colSpan = 5;
      empty.appendChild(cell);
      rows = [empty];
    }
    body.replaceChildren.apply(body, rows);
  }

  function poll(list) {
    if (!list.dataset.jobsFilter && !list.querySelector("tr[data-job-id]")) { return; }
    fetch(statusUrl(list), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
      .then(function (data) {
        redraw(list, data.jobs);
        var busy = data.jobs.some(function (job) { return job.state === "queued" || job.state === "running"; });
        list.dataset.polls = String(Number(list.dataset.polls || 0) + 1);
        window.setTimeout(function () { poll(list); }, busy ? FAST : SLOW);
      })
      .catch(function () { window.setTimeout(function () { poll(list); }, SLOW); });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    var list = form.closest(".job-list");
    if (!list || !form.closest(".job-actions")) { return; }
    event.preventDefault();
    form.querySelector("button").disabled = true;
    fetch(form.action, {
      method: "POST", credentials: "same-origin", body: new FormData(form),
      headers: { Accept: "application/json", "X-CSRFToken": form.elements.csrfmiddlewaretoken.value }
    }).then(function (response) { return response.json(); })
      .then(function (data) {
        var tr = form.closest("tr");
        if (data.job && tr) { tr.replaceWith(row(list, data.job)); }
      })
      .catch(function () { form.submit(); });
  });

  function start() { document.querySelectorAll(".job-list").forEach(poll); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
