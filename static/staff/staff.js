/* Behaviour of staff pages, kept out of the HTML so the Content Security Policy can refuse
   every inline script. Listeners sit on the document, so content that htmx swaps in works too.

   data-confirm="Question?" on a button or link: asks first, and does nothing unless confirmed.
   data-select-all="orders" on a checkbox: ticks or clears every checkbox named "orders" in
   the same form. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-confirm]") : null;
    if (target && !window.confirm(target.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!(box instanceof HTMLInputElement) || !box.hasAttribute("data-select-all")) {
      return;
    }
    var scope = box.form || document;
    var name = box.getAttribute("data-select-all");
    scope.querySelectorAll('input[type="checkbox"]').forEach(function (other) {
      if (other.name === name) {
        other.checked = box.checked;
      }
    });
  });
})();
