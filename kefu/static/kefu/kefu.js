/* Small behaviours of every page, wired by data- attributes (no inline handlers: the
 * Content-Security-Policy allows script from our static files only). */
(function () {
  "use strict";

  // <select data-autosubmit>: choosing an option submits its form (the language switcher).
  document.addEventListener("change", function (event) {
    var field = event.target.closest ? event.target.closest("[data-autosubmit]") : null;
    if (field && field.form) { field.form.requestSubmit ? field.form.requestSubmit() : field.form.submit(); }
  });

  // <button data-kb-insert="answer text">: put a suggested answer into the reply box.
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-kb-insert]") : null;
    if (!button) { return; }
    var box = document.getElementById(button.dataset.kbInsertInto || "id_body");
    if (!box) { return; }
    var text = button.getAttribute("data-kb-insert");
    box.value = box.value ? box.value.replace(/\s*$/, "") + "\n\n" + text : text;
    box.focus();
  });
})();
