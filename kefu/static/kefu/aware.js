/* Staying aware on every staff page (loaded from base.html for staff):
 *
 * - the unread count of the header's bell in the page title, "(3) Queue · 客服 Kefu";
 * - desktop notifications (asked for from the bell's button, never on page load) and, when
 *   the user turned it on in the bell, a short tone, for new urgent tickets and tickets
 *   assigned to the user;
 * - SLA countdowns: every element with data-sla-due="ISO time" says "due in …" (or
 *   "overdue by …" once it passed), every element with data-sla-breached="ISO time"
 *   says "breached … ago"; minutes, or seconds with data-sla-precision="seconds".
 *
 * The bell's list itself is server-rendered and refreshed by htmx on the socket's
 * notification events (live.js). Phrases come translated in the data- attributes of
 * <span id="aware-phrases">, with %(name)s placeholders (templatetags/kefu_aware.py).
 */
(function () {
  "use strict";

  var phrases = null;
  var offsetMs = 0;  // the server's clock minus this browser's

  function phrase(key, values) {
    var text = phrases ? phrases.getAttribute("data-phrase-" + key) || "" : "";
    return text.replace(/%\((\w+)\)s/g, function (all, name) {
      return values && values[name] !== undefined ? String(values[name]) : all;
    });
  }

  function now() { return Date.now() + offsetMs; }

  function pad(value) { return value < 10 ? "0" + value : String(value); }

  // The same as tickets/templatetags/kefu_aware.py `span`.
  function span(ms, precision) {
    var total = Math.floor(Math.abs(ms) / 1000);
    var days = Math.floor(total / 86400), rest = total % 86400;
    var hours = Math.floor(rest / 3600);
    rest = rest % 3600;
    var minutes = Math.floor(rest / 60), secs = rest % 60;
    var text;
    if (days) { return phrase("days", {d: days, h: hours}); }
    if (hours) {
      text = phrase("hours", {h: hours, m: pad(minutes)});
    } else if (minutes || precision !== "seconds") {
      text = phrase("minutes", {m: minutes});
    } else {
      return phrase("seconds", {s: secs});
    }
    if (precision === "seconds") { text += " " + phrase("seconds", {s: pad(secs)}); }
    return text;
  }

  function setText(element, text) {
    if (element.textContent !== text) { element.textContent = text; }
  }

  function tick() {
    var at = now();
    document.querySelectorAll("[data-sla-due]").forEach(function (element) {
      var due = Date.parse(element.getAttribute("data-sla-due"));
      if (isNaN(due)) { return; }
      var left = due - at, precision = element.getAttribute("data-sla-precision");
      element.classList.toggle("sla-overdue", left < 0);
      setText(element, phrase(left >= 0 ? "due-in" : "overdue-by", {span: span(left, precision)}));
    });
    document.querySelectorAll("[data-sla-breached]").forEach(function (element) {
      var since = Date.parse(element.getAttribute("data-sla-breached"));
      if (isNaN(since)) { return; }
      var precision = element.getAttribute("data-sla-precision");
      setText(element, phrase("breached-ago", {span: span(Math.max(0, at - since), precision)}));
    });
  }

  // The page title carries the unread count: "(3) Queue · 客服 Kefu".
  var baseTitle = document.title.replace(/^\(\d+\)\s*/, "");
  function showCount() {
    var count = document.getElementById("bell-count");
    var unread = count ? parseInt(count.getAttribute("data-count"), 10) || 0 : 0;
    var title = unread ? "(" + unread + ") " + baseTitle : baseTitle;
    if (document.title !== title) { document.title = title; }
    var bell = document.getElementById("bell");
    if (bell) { bell.classList.toggle("has-unread", unread > 0); }
  }

  // Desktop notifications: asked for only when the user presses the bell's button.
  function desktopState() {
    var button = document.getElementById("bell-desktop");
    var state = document.getElementById("bell-desktop-state");
    if (!button || !state) { return; }
    if (!("Notification" in window)) { button.hidden = true; return; }
    var permission = window.Notification.permission;
    button.hidden = permission !== "default";
    state.hidden = permission === "default";
    state.textContent = permission === "granted" ? phrase("notifications-on")
      : permission === "denied" ? phrase("notifications-denied") : "";
  }

  function askDesktop() {
    if (!("Notification" in window)) { return; }
    var asked = window.Notification.requestPermission(desktopState);
    if (asked && asked.then) { asked.then(desktopState); }
  }

  function ticketUrl(number) {
    var pattern = phrases ? phrases.getAttribute("data-ticket-url") : "";
    return pattern ? pattern.replace("__number__", encodeURIComponent(number)) : "";
  }

  // The same ticket announced twice (its event reaches the team's and the agent's groups,
  // or several tabs) alerts once: per page by key, across tabs by a short mark in storage.
  var alerted = {};
  function firstTime(key) {
    if (alerted[key]) { return false; }
    alerted[key] = true;
    try {
      var mark = "kefu-alert:" + key;
      var last = parseInt(window.localStorage.getItem(mark), 10);
      if (last && Date.now() - last < 5000) { return false; }
      window.localStorage.setItem(mark, String(Date.now()));
    } catch (e) { /* storage off: each tab alerts */ }
    return true;
  }

  function playSound() {
    var toggle = document.getElementById("bell-play-sound");
    if (!toggle || !toggle.checked || !phrases) { return; }
    try {
      var played = new Audio(phrases.getAttribute("data-sound")).play();
      if (played && played.catch) { played.catch(function () {}); }  // no gesture yet: silent
    } catch (e) { /* no audio */ }
  }

  function alertUser(key, text, number) {
    if (!firstTime(key)) { return; }
    playSound();
    if (!("Notification" in window) || window.Notification.permission !== "granted") { return; }
    if (document.visibilityState === "visible" && document.hasFocus()) { return; }  // the page shows it
    try {
      var shown = new window.Notification(text, {tag: key});
      shown.onclick = function () {
        window.focus();
        var url = ticketUrl(number);
        if (url) { location.href = url; }
        shown.close();
      };
    } catch (e) { /* some browsers allow notifications only from a service worker */ }
  }

  function onEvent(event) {
    var detail = event.detail || {};
    var me = phrases ? phrases.getAttribute("data-agent") : "";
    if (detail.type === "ticket.created" && detail.ticket) {
      var ticket = detail.ticket;
      if (me && String(ticket.assignee_id) === me) {
        alertUser("assigned:" + ticket.number, phrase("assigned-ticket", {number: ticket.number}), ticket.number);
      } else if (ticket.tier === "urgent") {
        alertUser("urgent:" + ticket.number, phrase("urgent-ticket", {number: ticket.number}), ticket.number);
      }
    } else if (detail.type === "notification" && detail.kind === "assigned" && detail.ticket) {
      alertUser("assigned:" + detail.ticket + ":" + detail.id, detail.text, detail.ticket);
    }
  }

  function init() {
    phrases = document.getElementById("aware-phrases");
    if (!phrases) { return; }
    var serverNow = Date.parse(phrases.getAttribute("data-server-now"));
    if (!isNaN(serverNow)) { offsetMs = serverNow - Date.now(); }
    showCount();
    desktopState();
    tick();
    setInterval(tick, 1000);
    document.body.addEventListener("htmx:afterSettle", function () { showCount(); tick(); });
    document.body.addEventListener("kefu:event", onEvent);
    var button = document.getElementById("bell-desktop");
    if (button) { button.addEventListener("click", askDesktop); }
    // The open bell closes on a click elsewhere or Esc, as a menu does.
    var bell = document.getElementById("bell");
    if (bell) {
      document.addEventListener("click", function (event) {
        if (bell.open && !bell.contains(event.target)) { bell.open = false; }
      });
      document.addEventListener("keydown", function (event) {
        if (event.key === "Escape" && bell.open) { bell.open = false; }
      });
    }
  }

  window.kefuAware = {phrase: phrase};

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
