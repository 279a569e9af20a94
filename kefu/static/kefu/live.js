/* Live pages: one reconnecting websocket that turns Kefu's events into DOM events.
 *
 * The page names its socket on the status badge:
 *   <span id="live-state" data-live-socket="/ws/agent/" data-ok="live" data-down="…">
 * and the parts that follow the events fetch their own fresh HTML with htmx:
 *   <tbody hx-get="{% url … %}" hx-trigger="kefu:changed from:body" hx-sync="this:queue last">
 * The browser never builds a fragment from an event's payload, so what it shows passes the
 * same role checks and masking as a page load (docs/realtime.md).
 *
 * Events fired on document.body:
 *   kefu:open          the socket (re)connected: events may have been missed, catch up
 *   kefu:changed       tickets, messages or SLA states changed (coalesced)
 *   kefu:notification  a notification for this user arrived (coalesced)
 *   kefu:event         every event as it came, in `detail`, for page scripts (calls, typing)
 * A page may name more than one socket (the header bell names the agent socket on every
 * staff page); each path is opened once, and only the page's own socket (#live-state, else
 * the first) fires kefu:changed and watches tickets.
 * and on each element with data-live-ticket="NUMBER" (the socket also asks to watch that
 * ticket): kefu:ticket-changed, when an event concerns that ticket (coalesced), and once the
 * server confirms the watch (the element then carries data-live-watching).
 */
(function () {
  "use strict";

  // A burst (a thousand SLA breaches in one tick) becomes at most one fetch at once and one
  // after it: the first event fires at once, later ones within the window fire once at its
  // end. A debounce alone would starve under a steady stream; a plain throttle would drop
  // the burst's last event.
  var WINDOW_MS = 300;
  var windows = new WeakMap();

  function fire(target, name, detail) {
    target.dispatchEvent(new CustomEvent(name, {bubbles: true, detail: detail || {}}));
  }

  function coalesced(target, name) {
    var byName = windows.get(target);
    if (!byName) { byName = {}; windows.set(target, byName); }
    var state = byName[name] || (byName[name] = {timer: null, pending: false});
    if (state.timer) { state.pending = true; return; }
    fire(target, name);
    function close() {
      state.timer = null;
      if (state.pending) {
        state.pending = false;
        fire(target, name);
        state.timer = setTimeout(close, WINDOW_MS);
      }
    }
    state.timer = setTimeout(close, WINDOW_MS);
  }

  function isChange(type) {
    return (type.indexOf("ticket.") === 0 && type !== "ticket.watching") ||
      type.indexOf("sla.") === 0 || type.indexOf("message.") === 0;
  }

  function ticketNumber(event) {
    if (event.type === "ticket.watching") { return event.number; }  // caught up from here on
    if (event.type === "chat.typing") { return null; }  // nothing to fetch
    return event.ticket && typeof event.ticket === "object" ? event.ticket.number : null;
  }

  function watched() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-live-ticket]"));
  }

  var socket = null;

  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  // `badges`: the elements naming this socket's path; those with data-ok/data-down show its
  // state. The primary socket (the page's own) is the one `send` uses and that watches tickets.
  function start(path, badges, primary) {
    var scheme = location.protocol === "https:" ? "wss" : "ws";
    var delay = 500;

    function setState(ok) {
      badges.forEach(function (badge) {
        badge.setAttribute("data-live-state", ok ? "up" : "down");
        if (badge.dataset.ok === undefined) { return; }
        badge.textContent = ok ? badge.dataset.ok : badge.dataset.down;
        badge.className = "live " + (ok ? "up" : "down");
      });
    }

    function receive(event) {
      var type = typeof event.type === "string" ? event.type : "";
      fire(document.body, "kefu:event", event);
      if (type === "notification") { coalesced(document.body, "kefu:notification"); }
      // A second socket (the bell's, beside a board page's own) only brings notifications
      // and alerts: what the page shows follows its own socket.
      if (!primary) { return; }
      if (isChange(type)) { coalesced(document.body, "kefu:changed"); }
      var number = ticketNumber(event);
      if (number) {
        watched().forEach(function (element) {
          if (element.dataset.liveTicket !== number) { return; }
          if (type === "ticket.watching") { element.setAttribute("data-live-watching", ""); }
          coalesced(element, "kefu:ticket-changed");
        });
      }
    }

    function open() {
      var ws = new WebSocket(scheme + "://" + location.host + path);
      ws.onopen = function () {
        delay = 500;
        setState(true);
        if (primary) { socket = ws; } else { fire(document.body, "kefu:open"); return; }
        var numbers = {};
        watched().forEach(function (element) { numbers[element.dataset.liveTicket] = true; });
        Object.keys(numbers).forEach(function (number) { send({type: "ticket.watch", number: number}); });
        fire(document.body, "kefu:open");
      };
      ws.onmessage = function (message) {
        var event;
        try { event = JSON.parse(message.data); } catch (e) { return; }
        if (event && typeof event === "object") { receive(event); }
      };
      ws.onclose = function (close) {
        if (socket === ws) { socket = null; }
        setState(false);
        if (primary) { watched().forEach(function (element) { element.removeAttribute("data-live-watching"); }); }
        if (close.code === 4403) { return; }  // refused: reconnecting will not help
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    open();
  }

  // A fragment request that was redirected (the session ended: the login page came back)
  // must not be swapped into the page: load the whole page again instead.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var xhr = event.detail.xhr;
    if (!xhr || !xhr.responseURL) { return; }
    var info = event.detail.pathInfo || {};
    var asked = new URL(info.requestPath || event.detail.requestConfig.path, location.href).pathname;
    if (new URL(xhr.responseURL).pathname !== asked) {
      event.detail.shouldSwap = false;
      location.reload();
    }
  });

  window.kefuLive = {send: send};

  // After htmx's own DOMContentLoaded handler (it was loaded first): the hx-trigger
  // listeners exist before the first kefu:open can fire.
  // One socket per path: the page's own badge (#live-state) comes first, then any other
  // element naming a socket (the header bell's hidden one opens the agent socket on staff
  // pages that have no live badge; where the page's badge names the same path, they share).
  function init() {
    var all = Array.prototype.slice.call(document.querySelectorAll("[data-live-socket]"));
    var own = document.getElementById("live-state");
    if (own && all.indexOf(own) > 0) { all.splice(all.indexOf(own), 1); all.unshift(own); }
    var byPath = {};
    all.forEach(function (badge, index) {
      var path = badge.dataset.liveSocket;
      if (byPath[path]) { byPath[path].push(badge); return; }
      byPath[path] = [badge];
      start(path, byPath[path], index === 0);
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
