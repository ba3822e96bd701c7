// The console's only script (served by the application, no inline script: see the CSP).
// Pages work without it; it only keeps a double click from sending a form twice. The server
// does not rely on it: a redemption form carries its own idempotency key.
"use strict";
document.addEventListener("submit", function (event) {
  var form = event.target;
  if (form.dataset.submitted === "yes") {
    event.preventDefault();
    return;
  }
  form.dataset.submitted = "yes";
  window.setTimeout(function () {
    form.querySelectorAll("button[type=submit]").forEach(function (button) {
      button.disabled = true;
    });
  }, 0);
});

// A button marked data-print prints the page (the print stylesheet keeps only its content).
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-print]");
  if (button) {
    event.preventDefault();
    window.print();
  }
});
