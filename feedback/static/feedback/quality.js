// The reviewer's workspace: the total as the ratings are chosen (the server computes the
// score that counts; docs/quality.md has the formula).
(function () {
  "use strict";
  var SHARE = { met: 1, partly: 0.5, missed: 0 };

  function total(form) {
    var earned = 0, possible = 0, failed = false, complete = true;
    form.querySelectorAll(".quality-item").forEach(function (item) {
      var rating = item.querySelector("select").value;
      if (!rating) { complete = false; return; }
      if (item.hasAttribute("data-critical")) {
        if (rating === "missed") { failed = true; }
        return;
      }
      if (rating === "na") { return; }
      var weight = Number(item.getAttribute("data-weight")) || 0;
      earned += weight * SHARE[rating];
      possible += weight;
    });
    var out = form.querySelector("[data-quality-total]");
    if (failed) {
      out.textContent = "0 · " + out.getAttribute("data-failed-label");
    } else if (!complete) {
      out.textContent = "—";
    } else {
      out.textContent = possible ? (Math.round(1000 * earned / possible) / 10).toFixed(1) : "100.0";
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("[data-quality-scorecard]");
    if (!form) { return; }
    form.addEventListener("change", function () { total(form); });
    total(form);
  });
})();
