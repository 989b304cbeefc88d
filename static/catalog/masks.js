// The area page's mask editor: polygons drawn in an SVG over a frame of a reference flight, in fractions of the
// frame (the viewBox is 0..1 both ways), saved to and deleted from the area's masks endpoint. With "Fix to the
// ground" (a drawing flight with telemetry) the server stores the corners' ground positions; such a mask is
// drawn where the drawing frame sees it (`frame_points`).
(function () {
  "use strict";
  const editor = document.getElementById("mask-editor");
  if (!editor) return;
  const svg = document.getElementById("mask-svg");
  const list = document.getElementById("mask-list");
  const share = document.getElementById("masked-share");
  const editable = editor.dataset.editable === "1";
  const saveButton = document.getElementById("mask-save");
  const undoButton = document.getElementById("mask-undo");
  const clearButton = document.getElementById("mask-clear");
  const status = document.getElementById("mask-status");
  const nameInput = document.getElementById("mask-name");
  const groundBox = document.getElementById("mask-ground");
  const groundShare = document.getElementById("ground-share");
  const NS = "http://www.w3.org/2000/svg";
  let state = JSON.parse(document.getElementById("mask-data").textContent);
  let drawing = [];

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(body || {}),
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok) throw new Error(data.error || "the server answered " + response.status);
        return data;
      });
    });
  }

  function shape(tag, attributes) {
    const node = document.createElementNS(NS, tag);
    Object.keys(attributes).forEach(function (key) { node.setAttribute(key, attributes[key]); });
    return node;
  }

  function pointsText(points) {
    return points.map(function (p) { return p[0].toFixed(4) + "," + p[1].toFixed(4); }).join(" ");
  }

  function render() {
    svg.replaceChildren();
    state.masks.forEach(function (mask) {
      if (!mask.frame_points) return;  // a ground mask this frame does not see
      const polygon = shape("polygon", { points: pointsText(mask.frame_points), "data-mask": mask.id,
                                         class: "mask-shape" + (mask.space === "ground" ? " mask-ground" : "") });
      const title = document.createElementNS(NS, "title");
      title.textContent = mask.name || "mask " + mask.id;
      polygon.appendChild(title);
      svg.appendChild(polygon);
    });
    if (drawing.length) {
      svg.appendChild(shape(drawing.length > 2 ? "polygon" : "polyline",
                            { points: pointsText(drawing), class: "mask-drawing" }));
      drawing.forEach(function (p) {
        svg.appendChild(shape("circle", { cx: p[0], cy: p[1], r: 0.008, class: "mask-corner" }));
      });
    }
    share.textContent = Math.round(state.masked_share * 100) + "%";
    const ground = state.ground_share;
    groundShare.textContent = ground ? "With the ground masks, they cover " + Math.round(ground.mean * 100) +
      "% of a frame of " + ground.video + " on average, up to " + Math.round(ground.max * 100) + "%." : "";
    list.replaceChildren();
    state.masks.forEach(function (mask) {
      const item = document.createElement("li");
      item.textContent = (mask.name || "mask " + mask.id) + " (" + mask.points.length + " corners, " +
        (mask.space === "ground" ? "on the ground" : "in the frame") + ") ";
      if (editable) {
        const remove = document.createElement("button");
        remove.type = "button";
        remove.textContent = "Delete";
        remove.setAttribute("aria-label", "Delete " + (mask.name || "mask " + mask.id));
        remove.addEventListener("click", function () { removeMask(mask); });
        item.appendChild(remove);
      }
      list.appendChild(item);
    });
    if (editable) {
      saveButton.disabled = drawing.length < 3;
      undoButton.disabled = clearButton.disabled = drawing.length === 0;
    }
  }

  function say(text) { if (status) status.textContent = text; }

  function removeMask(mask) {
    if (!window.confirm("Delete " + (mask.name || "mask " + mask.id) + "?")) return;
    post(editor.dataset.deleteUrl.replace(/\/0\/delete$/, "/" + mask.id + "/delete"))
      .then(function (data) { state = data; render(); say("Mask deleted."); })
      .catch(function (error) { say("Could not delete the mask: " + error.message); });
  }

  if (editable) {
    svg.classList.add("editable");
    svg.addEventListener("click", function (event) {
      const box = svg.getBoundingClientRect();
      const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
      const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
      drawing.push([x, y]);
      say(drawing.length + " corner" + (drawing.length === 1 ? "" : "s") + " placed");
      render();
    });
    undoButton.addEventListener("click", function () { drawing.pop(); render(); });
    clearButton.addEventListener("click", function () { drawing = []; say(""); render(); });
    saveButton.addEventListener("click", function () {
      saveButton.disabled = true;
      post(editor.dataset.url, { points: drawing, name: nameInput.value, on_ground: !!(groundBox && groundBox.checked) })
        .then(function (data) {
          state = { masks: data.masks, masked_share: data.masked_share, ground_share: data.ground_share };
          drawing = [];
          nameInput.value = "";
          say("Mask saved: events peaking inside it are not raised when videos are scored again.");
          render();
        })
        .catch(function (error) { say("Could not save the mask: " + error.message); render(); });
    });
  }
  render();
})();
