/* Kefu's small browser helper: a reconnecting websocket and partial page refreshes. */
(function () {
  "use strict";

  function debounce(fn, ms) {
    var timer = null;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(fn, ms);
    };
  }

  function socket(path, options) {
    var delay = 500;
    var scheme = location.protocol === "https:" ? "wss" : "ws";
    function setState(ok) {
      if (!options.state) { return; }
      options.state.textContent = ok ? options.state.dataset.ok : options.state.dataset.down;
      options.state.className = "live " + (ok ? "up" : "down");
    }
    function open() {
      var ws = new WebSocket(scheme + "://" + location.host + path);
      ws.onopen = function () {
        delay = 500;
        setState(true);
        if (options.onOpen) { options.onOpen(ws); }
      };
      ws.onmessage = function (message) {
        var event;
        try { event = JSON.parse(message.data); } catch (e) { return; }
        options.onEvent(event, ws);
      };
      ws.onclose = function (close) {
        setState(false);
        if (close.code === 4403) { return; }  // refused: reconnecting will not help
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 10000);
      };
    }
    open();
  }

  function replaceFrom(url, target) {
    return fetch(url, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { target.innerHTML = html; });
  }

  function replaceParts(url, ids) {
    return fetch(url, {credentials: "same-origin"})
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        ids.forEach(function (id) {
          var fresh = doc.getElementById(id);
          var current = document.getElementById(id);
          if (fresh && current) { current.replaceWith(fresh); }
        });
      });
  }

  function notify(event) {
    var list = document.getElementById("notification-list");
    if (!list) { return; }
    var empty = document.getElementById("no-notifications");
    if (empty) { empty.remove(); }
    var item = document.createElement("li");
    item.className = "fresh";
    if (event.ticket) {
      var link = document.createElement("a");
      link.href = "/tickets/" + encodeURIComponent(event.ticket) + "/";
      link.textContent = event.text;
      item.appendChild(link);
    } else {
      item.textContent = event.text;
    }
    list.insertBefore(item, list.firstChild);
  }

  window.kefu = {notify: notify, debounce: debounce, socket: socket, replaceFrom: replaceFrom, replaceParts: replaceParts};
})();
