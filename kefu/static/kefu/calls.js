/* Screen pops for ringing calls on the agent's queue page. The pop is drawn from the
 * `call.ringing` event (live.js passes every event on as `kefu:event`): it must show at once
 * who is calling, so that event carries the caller's name and masked number (tickets/events.py),
 * filled into the page's <template> as text. */
(function () {
  "use strict";

  function field(pop, name) { return pop.querySelector('[data-field="' + name + '"]'); }

  function popFor(id) { return document.querySelector('.call-pop[data-call="' + id + '"]'); }

  function setState(pop, call, box) {
    var label = box.dataset[call.state] || call.state;
    if (call.answered_by) { label += " · " + call.answered_by; }
    field(pop, "state").textContent = label;
    pop.className = "card call-pop state-" + call.state;
  }

  function ringing(event) {
    var box = document.getElementById("call-pops");
    var template = document.getElementById("call-pop-template");
    if (!box || !template || popFor(event.call.id)) { return; }
    var pop = template.content.firstElementChild.cloneNode(true);
    pop.dataset.call = event.call.id;
    var customer = event.customer;
    field(pop, "customer").textContent = customer ? (customer.name || "#" + customer.id) : box.dataset.unknown;
    // Removed rather than hidden: the badge style's display would override [hidden].
    if (!(customer && customer.is_vip)) { field(pop, "vip").remove(); }
    field(pop, "phone").textContent = event.phone;
    field(pop, "queue").textContent = event.call.queue;
    setState(pop, event.call, box);
    var list = field(pop, "tickets");
    event.open_tickets.forEach(function (ticket) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = ticket.url;
      link.textContent = ticket.number;
      item.appendChild(link);
      item.appendChild(document.createTextNode(" · " + ticket.subject));
      list.appendChild(item);
    });
    field(pop, "link").href = event.call.url;
    var newTicket = field(pop, "new-ticket");
    if (newTicket) { newTicket.href = newTicket.dataset.base + "?call=" + encodeURIComponent(event.call.id); }
    var create = field(pop, "create");
    if (event.create_customer_url) { create.action = event.create_customer_url; } else { create.remove(); }
    pop.querySelector('[data-action="dismiss"]').addEventListener("click", function () { pop.remove(); });
    box.insertBefore(pop, box.firstChild);
  }

  // How long an ended call's pop stays, marked ended, before it closes by itself.
  var ENDED_CLOSE_MS = 4000;

  function updated(event) {
    var pop = popFor(event.call.id);
    var box = document.getElementById("call-pops");
    if (!pop || !box) { return; }
    setState(pop, event.call, box);
    if (event.call.state === "ended" && !pop.dataset.closing) {
      // The call ended (hung up, answered elsewhere and done, or missed): nothing is left to
      // pick up. The pop says so for a moment, then closes; the call's page keeps the rest.
      pop.dataset.closing = "1";
      setTimeout(function () { pop.remove(); }, ENDED_CLOSE_MS);
    }
  }

  document.addEventListener("kefu:event", function (message) {
    var event = message.detail || {};
    if (!event.call) { return; }
    if (event.type === "call.ringing") { ringing(event); } else if (event.type === "call.updated") { updated(event); }
  });
})();
