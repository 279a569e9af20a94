/* The ticket page's typing: the chat visitor's shown here, and this agent's told to the
 * server while the reply box is in use (for the chat visitor and for the other agents on
 * the page, kefu/viewing.js). The timeline and SLA box refresh through htmx: see live.js.
 * Reads the ticket from <div class="ticket-layout" data-number="…">.
 * When the ticket leaves this user's sight while the page is open (a transfer), the live
 * fragment answers with the event kefu:ticket-gone and the page loads itself again, unless
 * it is already on its way elsewhere (a form sent, a link followed). */
(function () {
  "use strict";

  var TYPING_SHOWN_MS = 8000;  // a visitor who closes the tab never says "stopped"
  var TYPING_EVERY_MS = 2500;
  var TYPING_STOP_MS = 3000;

  function init() {
    var layout = document.querySelector(".ticket-layout[data-number]");
    if (!layout) { return; }
    var number = layout.dataset.number;
    var leaving = false;
    window.addEventListener("beforeunload", function () { leaving = true; });
    document.body.addEventListener("kefu:ticket-gone", function () {
      if (!leaving) { location.reload(); }
    });
    var note = document.getElementById("chat-typing");  // only a chat ticket has a visitor who types

    var hide = null;
    document.body.addEventListener("kefu:event", function (event) {
      var detail = event.detail || {};
      if (!note || !detail.ticket || detail.ticket.number !== number) { return; }
      if (detail.type === "chat.typing") {
        note.hidden = !detail.typing;
        clearTimeout(hide);
        if (detail.typing) { hide = setTimeout(function () { note.hidden = true; }, TYPING_SHOWN_MS); }
      } else if (detail.type === "ticket.message") {
        note.hidden = true;
      }
    });

    // The visitor (on chat) and the other agents with the ticket open (kefu/viewing.js) see
    // "typing" while the reply box is in use.
    var box = document.querySelector("form.reply textarea");
    if (!box || !window.kefuLive) { return; }
    var sentAt = 0, stop = null;
    function tell(isTyping) { window.kefuLive.send({type: "ticket.typing", number: number, typing: isTyping}); }
    box.addEventListener("input", function () {
      var now = Date.now();
      if (now - sentAt > TYPING_EVERY_MS) { sentAt = now; tell(true); }
      clearTimeout(stop);
      stop = setTimeout(function () { sentAt = 0; tell(false); }, TYPING_STOP_MS);
    });
    box.form.addEventListener("submit", function () {
      clearTimeout(stop);
      if (sentAt) { sentAt = 0; tell(false); }
    });
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
