/* Phone intake: move through the caller results with the arrow keys.
   Down from the search field goes to the first result, Up/Down between results, Escape back to
   the search field. Everything also works with Tab and Enter; this only makes it quicker. */
(function () {
  "use strict";

  function results() {
    return Array.prototype.slice.call(document.querySelectorAll("#caller-results .caller-choice"));
  }

  document.addEventListener("keydown", function (event) {
    var search = document.getElementById("caller-query");
    if (!search) {
      return;
    }
    var items = results();
    var index = items.indexOf(document.activeElement);
    if (event.target === search && event.key === "ArrowDown" && items.length) {
      event.preventDefault();
      items[0].focus();
    } else if (index >= 0 && event.key === "ArrowDown") {
      event.preventDefault();
      items[Math.min(index + 1, items.length - 1)].focus();
    } else if (index >= 0 && event.key === "ArrowUp") {
      event.preventDefault();
      if (index === 0) {
        search.focus();
      } else {
        items[index - 1].focus();
      }
    } else if (index >= 0 && event.key === "Escape") {
      event.preventDefault();
      search.focus();
    }
  });
})();
