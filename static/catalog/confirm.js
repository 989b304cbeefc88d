// Forms with data-confirm ask before submitting (deletions); no inline handlers, the CSP forbids them.
document.querySelectorAll("form[data-confirm]").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
