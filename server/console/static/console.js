// HazardChain console: a few small conveniences; every page works without this file.
(function () {
  "use strict";
  document.addEventListener("click", function (ev) {
    var el = ev.target.closest("[data-print]");
    if (el) { ev.preventDefault(); window.print(); }
  });
  // "select all" checkbox for batch assignment
  document.querySelectorAll("[data-select-all]").forEach(function (box) {
    var name = box.getAttribute("data-select-all");
    box.addEventListener("change", function () {
      document.querySelectorAll('input[type=checkbox][name="' + name + '"]').forEach(function (c) {
        c.checked = box.checked;
      });
    });
  });
  // batch buttons need a selection; irreversible actions ask first
  document.querySelectorAll("form").forEach(function (form) {
    form.addEventListener("submit", function (ev) {
      var btn = form.querySelector("[data-needs-selection]");
      if (btn) {
        var name = btn.getAttribute("data-needs-selection");
        if (!form.querySelector('input[name="' + name + '"]:checked')) {
          ev.preventDefault();
          window.alert(btn.getAttribute("data-none-message"));
          return;
        }
      }
      var question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) { ev.preventDefault(); }
    });
  });
  // a shared filter select submits at once
  document.querySelectorAll("form.filters select").forEach(function (sel) {
    sel.addEventListener("change", function () { sel.form.submit(); });
  });
})();
