/* The board's wall screen: the fallbacks behind live.js's own reconnecting socket.
 *
 * live.js reconnects the board socket with a growing delay and the fragment is fetched every
 * minute whatever the socket does. This script reloads the whole page (new static files, a
 * fresh session check, a clean slate after a long night) every data-reload-minutes, and when
 * the socket has stayed down for data-down-seconds (a proxy that drops websockets for good).
 * It reloads only once the server answers, so a screen whose server is away keeps the last
 * figures instead of an error page.
 */
(function () {
  "use strict";

  var body = document.body;
  var reloadMs = (parseInt(body.dataset.reloadMinutes, 10) || 30) * 60 * 1000;
  var downMs = (parseInt(body.dataset.downSeconds, 10) || 90) * 1000;
  var downSince = null;
  var loadedAt = Date.now();

  function reloadWhenServerAnswers() {
    fetch(location.href, {method: "HEAD", credentials: "same-origin", cache: "no-store"})
      .then(function (response) { if (response.ok) { location.reload(); } })
      .catch(function () { /* still away: try again on the next check */ });
  }

  function check() {
    var badge = document.getElementById("live-state");
    var down = badge && badge.getAttribute("data-live-state") === "down";
    if (!down) { downSince = null; } else if (downSince === null) { downSince = Date.now(); }
    if (Date.now() - loadedAt >= reloadMs) { reloadWhenServerAnswers(); return; }
    if (downSince !== null && Date.now() - downSince >= downMs) { reloadWhenServerAnswers(); }
  }

  setInterval(check, 5000);
})();
