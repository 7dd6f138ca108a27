// Progressive enhancement of the window/event pickers: a change submits the GET form (the
// page works without this script through the "Show" button), so the URL carries the choice.
"use strict";
document.querySelectorAll("form.pickers select").forEach(function (select) {
  select.addEventListener("change", function () { select.form.requestSubmit(); });
});
