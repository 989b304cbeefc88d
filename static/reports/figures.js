// Draws every server-built Plotly figure on the page: <div data-figure="ID"> reads the JSON element #ID.
// A figure with data-click="navigate" opens the URL in a clicked point's customdata.
(function () {
  "use strict";
  document.querySelectorAll("[data-figure]").forEach((element) => {
    const source = document.getElementById(element.dataset.figure);
    if (!source) return;
    const figure = JSON.parse(source.textContent);
    Plotly.newPlot(element, figure.data, figure.layout, { responsive: true, displaylogo: false }).then(() => {
      element.dataset.ready = "1";
      if (element.dataset.click === "navigate") {
        element.on("plotly_click", (ev) => {
          const url = ev.points && ev.points.length && ev.points[0].customdata;
          if (url) window.location.href = url;
        });
      }
      element.dispatchEvent(new CustomEvent("figure-ready", { bubbles: true }));
    });
  });
})();
