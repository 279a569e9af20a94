/* The ticket page: who else has it open and who is typing a reply (from the viewing events
 * of the agent socket, tickets/viewers.py), and a warning before sending a reply when the
 * customer wrote or someone else replied after this page was loaded (the reply view checks
 * the same again: tickets/services/reply_guard.py).
 *
 * This agent's own typing is sent by ticket.js. Names are staff names from the events, set
 * as text, never as HTML.
 */
(function () {
  "use strict";

  var TYPING_SHOWN_MS = 6000;  // a typist who stops without saying so (a closed laptop)

  function phrase(key, values) {
    return window.kefuAware ? window.kefuAware.phrase(key, values) : "";
  }

  function initials(name) {
    var words = name.trim().split(/\s+/);
    if (words.length > 1) { return (words[0][0] + words[words.length - 1][0]).toUpperCase(); }
    return name.trim().slice(0, 2).toUpperCase();
  }

  function viewers(layout) {
    var box = document.getElementById("ticket-viewers");
    var list = document.getElementById("viewer-list");
    var typingNote = document.getElementById("agents-typing");
    if (!box || !list || !typingNote) { return; }
    var number = layout.dataset.number;
    var me = box.getAttribute("data-me");
    var connections = {};  // connection → {viewer, typingUntil}

    function render() {
      var people = {}, order = [];
      var at = Date.now();
      Object.keys(connections).forEach(function (key) {
        var entry = connections[key];
        if (String(entry.viewer.id) === me) { return; }  // this user's other tabs
        var person = people[entry.viewer.id];
        if (!person) { person = people[entry.viewer.id] = {name: entry.viewer.name, typing: false}; order.push(entry.viewer.id); }
        if (entry.typingUntil > at) { person.typing = true; }
      });
      list.textContent = "";
      var typists = [];
      order.forEach(function (id) {
        var person = people[id];
        var avatar = document.createElement("span");
        avatar.className = "avatar" + (person.typing ? " typing" : "");
        avatar.textContent = initials(person.name);
        avatar.title = person.name;
        avatar.setAttribute("data-viewer", String(id));
        var name = document.createElement("span");
        name.className = "viewer-name";
        name.textContent = person.name;
        var item = document.createElement("span");
        item.className = "viewer";
        item.appendChild(avatar);
        item.appendChild(name);
        list.appendChild(item);
        if (person.typing) { typists.push(person.name); }
      });
      box.hidden = order.length === 0;
      typingNote.hidden = typists.length === 0;
      typingNote.textContent = typists.length === 0 ? ""
        : phrase(typists.length === 1 ? "typing-one" : "typing-many", {names: typists.join(", ")});
    }

    document.body.addEventListener("kefu:event", function (event) {
      var detail = event.detail || {};
      if (detail.number !== number || typeof detail.connection !== "string") { return; }
      if (detail.type === "viewing.joined") {
        connections[detail.connection] = {viewer: detail.viewer, typingUntil: detail.typing ? Date.now() + TYPING_SHOWN_MS : 0};
      } else if (detail.type === "viewing.left") {
        delete connections[detail.connection];
      } else if (detail.type === "viewing.typing") {
        var entry = connections[detail.connection] || (connections[detail.connection] = {viewer: detail.viewer, typingUntil: 0});
        entry.typingUntil = detail.typing ? Date.now() + TYPING_SHOWN_MS : 0;
      } else {
        return;
      }
      render();
    });
    // A new socket says hello again and hears everyone anew.
    document.body.addEventListener("kefu:open", function () { connections = {}; render(); });
    setInterval(render, 1000);
  }

  function unseenGuard() {
    var form = document.querySelector("form.reply[data-unseen-url]");
    if (!form) { return; }
    var seen = form.querySelector("input[name=seen_message_id]");
    var panel = document.getElementById("reply-overtaken");
    var text = document.getElementById("reply-overtaken-text");
    var review = document.getElementById("reply-review");
    if (!seen || !panel || !text) { return; }
    var checking = false;

    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (!submitter || submitter.value !== "reply" || submitter.hasAttribute("data-send-anyway")) { return; }
      if (checking) { event.preventDefault(); return; }
      event.preventDefault();
      checking = true;
      var url = form.getAttribute("data-unseen-url") + "?seen=" + encodeURIComponent(seen.value || "0");
      fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : null; })
        .catch(function () { return null; })
        .then(function (answer) {
          checking = false;
          if (answer && answer.unseen > 0) {
            // Sending now counts what is on the server as seen; the server checks again.
            seen.value = String(answer.last_id);
            text.textContent = phrase("unseen", {count: answer.unseen});
            panel.hidden = false;
            panel.scrollIntoView({block: "nearest"});
            return;
          }
          // Nothing new (or the check failed: the reply view checks anyway).
          var anyway = document.getElementById("reply-send-anyway");
          if (anyway) { form.requestSubmit(anyway); } else { form.submit(); }
        });
    });
    if (review) {
      review.addEventListener("click", function () {
        panel.hidden = true;
        var timeline = document.getElementById("timeline");
        if (timeline) { timeline.scrollIntoView({block: "end"}); }
      });
    }
  }

  function init() {
    var layout = document.querySelector(".ticket-layout[data-number]");
    if (!layout) { return; }
    viewers(layout);
    unseenGuard();
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
