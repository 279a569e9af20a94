/* The agent's presence: the status switch in the header, and telling Kefu that the agent is
 * at their desk.
 *
 *   <form data-presence data-socket="/ws/agent/" data-user="USER_ID" action="/presence/">
 *     <select data-presence-status>…</select>
 *
 * Changing the select posts it (JSON back). Input on the page (keys, clicks, scrolling, the
 * pointer, the tab coming to the front) is sent as `presence.activity` over the page's agent
 * socket, at most every ACTIVITY_MS: with no input on any of the agent's pages for
 * KEFU_PRESENCE_AWAY_MINUTES the server marks them away, and their next input brings them
 * back. A page without its own agent socket (kefu/live.js opens one on the queue and ticket
 * pages) opens one here, so every staff page counts as the agent being there.
 *
 * `agent.presence` events for this user (another tab, the idle sweep) update the switch;
 * every `agent.presence` event is also fired on document.body as `kefu:presence`, which the
 * supervisors' board listens to.
 */
(function () {
  "use strict";

  var ACTIVITY_MS = 20000;
  var HEARTBEAT_MS = 25000;

  function fire(name, detail) {
    document.body.dispatchEvent(new CustomEvent(name, {bubbles: true, detail: detail || {}}));
  }

  function liveAgentSocket() {
    var badge = document.querySelector("[data-live-socket]");
    return badge && badge.dataset.liveSocket === "/ws/agent/" && window.kefuLive;
  }

  var switchUpdate = null;  // set when the page has the switch

  function heard(event) {
    if (switchUpdate) { switchUpdate(event); }
    fire("kefu:presence", event);
  }

  function init() {
    // Pages hear agent.presence on their own socket (kefu/live.js) too: pass it on.
    document.body.addEventListener("kefu:event", function (event) {
      var detail = event.detail || {};
      if (detail.type === "agent.presence") { heard(detail); }
    });
    var form = document.querySelector("[data-presence]");
    if (!form) { return; }
    var select = form.querySelector("[data-presence-status]");
    var own = null;  // this page's own socket, when kefu/live.js has none to the agent socket

    function show(status) {
      form.className = form.className.replace(/\bpresence-\w+/g, "").trim() + " presence-" + status;
      var offline = select.querySelector("option[value=offline]");
      if (status !== "offline" && offline) { offline.remove(); }
      if (status === "offline" && !offline) { return; }  // the page will reconnect
      select.value = status;
    }
    switchUpdate = function (event) {
      if (String(event.agent && event.agent.user_id) === form.dataset.user) { show(event.agent.status); }
    };

    select.addEventListener("change", function () {
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        credentials: "same-origin",
        headers: {"Accept": "application/json"}
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (state) {
        if (state) { show(state.status); }
      });
    });

    function send(frame) {
      if (liveAgentSocket()) { return window.kefuLive.send(frame); }
      if (own && own.readyState === WebSocket.OPEN) { own.send(JSON.stringify(frame)); return true; }
      return false;
    }

    if (!liveAgentSocket()) {
      var delay = 500;
      var scheme = location.protocol === "https:" ? "wss" : "ws";
      var open = function () {
        var ws = new WebSocket(scheme + "://" + location.host + form.dataset.socket);
        ws.onopen = function () { own = ws; delay = 500; };
        ws.onmessage = function (message) {
          var event;
          try { event = JSON.parse(message.data); } catch (e) { return; }
          if (event && event.type === "agent.presence") { heard(event); }
        };
        ws.onclose = function (close) {
          if (own === ws) { own = null; }
          if (close.code === 4403) { return; }  // refused: reconnecting will not help
          setTimeout(open, delay);
          delay = Math.min(delay * 2, 10000);
        };
      };
      open();
    }

    var lastSent = 0;
    var pending = false;
    function active() {
      var now = Date.now();
      if (now - lastSent >= ACTIVITY_MS && send({type: "presence.activity"})) {
        lastSent = now;
        pending = false;
        return;
      }
      pending = true;
    }
    ["keydown", "mousedown", "wheel", "touchstart", "pointermove", "focus"].forEach(function (name) {
      window.addEventListener(name, active, {passive: true, capture: true});
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") { active(); }
    });
    setInterval(function () {
      if (pending && Date.now() - lastSent >= ACTIVITY_MS) { active(); } else { send({type: "presence.heartbeat"}); }
    }, HEARTBEAT_MS);
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
