// Mission report: "select all" for bulk review.
(function () {
  "use strict";
  const all = document.getElementById("select-all");
  if (!all) return;
  all.addEventListener("change", () => {
    document.querySelectorAll("#bulk-form input[name=event]").forEach((box) => { box.checked = all.checked; });
  });
})();
