/* The after-sales form on the status page: while the customer has not typed an amount
 * themselves, the amount shows the value of the items and quantities they chose. */
(function () {
  "use strict";
  var form = document.querySelector("form.apply-form");
  if (!form) { return; }
  var amount = form.querySelector("input[name=amount]");
  if (!amount) { return; }
  var touched = amount.value !== "";
  amount.addEventListener("input", function () { touched = amount.value !== ""; });

  function fill() {
    if (touched) { return; }
    var fen = 0;
    form.querySelectorAll("input.qty").forEach(function (input) {
      var quantity = parseInt(input.value, 10) || 0;
      var price = Math.round(parseFloat(input.getAttribute("data-unit-price")) * 100) || 0;
      fen += quantity * price;
    });
    amount.placeholder = fen ? (fen / 100).toFixed(2) : "";
  }
  form.addEventListener("input", function (event) {
    if (event.target.classList && event.target.classList.contains("qty")) { fill(); }
  });
  fill();

  // The amount is asked for only for the types that give money back.
  var refundTypes = (form.getAttribute("data-refund-types") || "").split(" ");
  var amountField = form.querySelector(".amount-field");
  function showAmount() {
    var chosen = form.querySelector("input[name=type]:checked");
    if (amountField) { amountField.hidden = !!chosen && refundTypes.indexOf(chosen.value) < 0; }
  }
  form.addEventListener("change", function (event) {
    if (event.target.name === "type") { showAmount(); }
  });
  showAmount();
})();
