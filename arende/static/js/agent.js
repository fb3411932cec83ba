/* Agent workspace: small enhancements. Every page works without this file. */
(function () {
  "use strict";

  /* Ticket page: the server answers 400 (invalid) and 409 (stale) with the page showing the
     errors; let HTMX swap those in too, then move focus to the message or the first error. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var status = event.detail.xhr.status;
    if (status === 400 || status === 409) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  document.addEventListener("htmx:afterSettle", function () {
    var page = document.getElementById("ticket-page");
    if (!page) {
      return;
    }
    var target = page.querySelector("[aria-invalid='true']") ||
      page.querySelector("[data-focus-after-swap]");
    if (target) {
      var panel = target.closest("details");
      if (panel) {
        panel.open = true;
      }
      target.focus();
    }
  });

  /* Queue page: "select all" and a count of the selected rows. */
  function setUpSelection() {
    var form = document.getElementById("bulk-form");
    if (!form) {
      return;
    }
    var all = form.querySelector("[data-select-all]");
    var count = form.querySelector("[data-selected-count]");
    var rows = Array.prototype.slice.call(form.querySelectorAll("input[name='tickets']"));
    if (!rows.length) {
      return;
    }
    var template = (count && count.getAttribute("data-template")) || "";

    function update() {
      var selected = rows.filter(function (row) { return row.checked; }).length;
      if (all) {
        all.checked = selected === rows.length;
        all.indeterminate = selected > 0 && selected < rows.length;
      }
      if (count) {
        count.textContent = selected ? template.replace("%(count)s", String(selected)) : "";
      }
    }

    if (all) {
      all.hidden = false;
      all.addEventListener("change", function () {
        rows.forEach(function (row) { row.checked = all.checked; });
        update();
      });
    }
    rows.forEach(function (row) { row.addEventListener("change", update); });
    update();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpSelection);
  } else {
    setUpSelection();
  }
})();
