/* Kefu's chat widget. Embed with one tag (docs/chat.md):
 *   <script src="https://kefu.example/static/kefu/chat-widget.js" data-site="KEY"
 *           data-user="ID" data-name="…" data-expires="UNIX" data-signature="HEX" async></script>
 * Without data-user the visitor is anonymous under a random id kept in localStorage, or
 * under data-visitor with data-visitor-signature when the shop's page signs visitor ids.
 * Plain JavaScript, no dependencies; the markup lives in a shadow root so the shop's styles
 * and ours leave each other alone. Every text it shows comes from the server's `hello`.
 */
(function () {
  "use strict";

  var script = document.currentScript || document.querySelector("script[data-site][src*='chat-widget.js']");
  if (!script || window.KefuChat) { return; }
  var data = script.dataset;
  if (!data.site) { console.warn("Kefu chat: the script tag needs data-site"); return; }
  var base = new URL(script.src, location.href);
  var storageKey = "kefu-chat:" + data.site;
  var CLIENT_ID = /^[A-Za-z0-9_-]{8,64}$/;

  function randomHex(bytes) {
    var values = new Uint8Array(bytes);
    (window.crypto || window.msCrypto).getRandomValues(values);
    return Array.prototype.map.call(values, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function remember(key, value) {
    // Private browsing may refuse storage: the visitor then gets a new id per page load.
    try {
      if (value === undefined) { return window.localStorage.getItem(key); }
      window.localStorage.setItem(key, value);
    } catch (e) { /* not available */ }
    return value === undefined ? null : value;
  }

  function visitorId() {
    var id = remember(storageKey + ":visitor");
    if (!id || !/^[A-Za-z0-9_-]{16,64}$/.test(id)) {
      id = randomHex(16);
      remember(storageKey + ":visitor", id);
    }
    return id;
  }

  function forget(key) {
    try { window.localStorage.removeItem(key); } catch (e) { /* not available */ }
  }

  // A visitor who chatted anonymously on this browser and has now signed in: the server
  // gives the anonymous conversation to the signed-in customer. The id is forgotten once the
  // server has greeted us, so whoever is anonymous here later starts afresh.
  var previousVisitor = data.user ? remember(storageKey + ":visitor") : null;

  // Who the visitor is, as the socket and the upload endpoint both want it.
  function identityParams() {
    var params = new URLSearchParams();
    if (data.user) {
      params.set("user", data.user);
      params.set("expires", data.expires || "");
      params.set("signature", data.signature || "");
      if (previousVisitor) { params.set("previous", previousVisitor); }
    } else if (data.visitor) {
      // A site that requires signed visitor ids: the shop's page gave this one. Kept like a
      // random id, so the conversation follows the visitor when they sign in.
      remember(storageKey + ":visitor", data.visitor);
      params.set("visitor", data.visitor);
      params.set("signature", data.visitorSignature || "");
    } else {
      params.set("visitor", visitorId());
    }
    if (data.name) { params.set("name", data.name); }
    params.set("lang", data.lang || document.documentElement.lang || navigator.language || "");
    return params;
  }

  function socketUrl() {
    var params = identityParams();
    var scheme = base.protocol === "https:" ? "wss:" : "ws:";
    return scheme + "//" + base.host + "/ws/chat/" + encodeURIComponent(data.site) + "/?" + params.toString();
  }

  var STYLE = [
    ":host { all: initial; }",
    ".launcher { position: fixed; right: 20px; bottom: 20px; width: 56px; height: 56px; border-radius: 50%; border: 0;",
    "  background: #1f6feb; color: #fff; cursor: pointer; box-shadow: 0 4px 14px rgba(0,0,0,.25); z-index: 2147483000; }",
    ".launcher svg { width: 28px; height: 28px; fill: currentColor; }",
    ".badge { position: absolute; top: -2px; right: -2px; min-width: 20px; height: 20px; border-radius: 10px;",
    "  background: #d93025; color: #fff; font: 12px/20px system-ui, sans-serif; text-align: center; }",
    ".panel { position: fixed; right: 20px; bottom: 88px; width: 340px; max-width: calc(100vw - 40px); height: 480px;",
    "  max-height: calc(100vh - 120px); display: flex; flex-direction: column; background: #fff; color: #222;",
    "  border-radius: 12px; box-shadow: 0 8px 30px rgba(0,0,0,.25); overflow: hidden; z-index: 2147483000;",
    "  font: 14px/1.45 system-ui, -apple-system, 'PingFang SC', 'Microsoft YaHei', sans-serif; }",
    ".panel[hidden], [hidden] { display: none !important; }",
    "header { display: flex; align-items: center; gap: 8px; padding: 10px 12px; background: #1f6feb; color: #fff; }",
    "header strong { flex: 1; }",
    ".dot { width: 8px; height: 8px; border-radius: 50%; background: #9aa0a6; }",
    ".dot.online { background: #34c759; }",
    ".state { font-size: 12px; opacity: .9; }",
    ".close { background: none; border: 0; color: #fff; font-size: 20px; cursor: pointer; }",
    ".notice { margin: 0; padding: 8px 12px; background: #fff8e1; border-bottom: 1px solid #f0d890; font-size: 13px; }",
    ".log { flex: 1; overflow-y: auto; list-style: none; margin: 0; padding: 12px; display: flex; flex-direction: column; gap: 8px; }",
    ".empty { color: #777; font-size: 13px; text-align: center; margin: auto 0; }",
    ".msg { max-width: 80%; padding: 6px 10px; border-radius: 10px; background: #f1f3f4; align-self: flex-start;",
    "  white-space: pre-wrap; word-wrap: break-word; }",
    ".msg.from-visitor { align-self: flex-end; background: #d3e3fd; }",
    ".msg.from-bot { background: #e6f4ea; }",
    ".msg .who { display: block; font-size: 11px; color: #555; }",
    ".msg.pending { opacity: .6; }",
    ".msg.failed { outline: 1px solid #d93025; }",
    ".typing, .error { margin: 0; padding: 0 12px 6px; font-size: 12px; color: #555; }",
    ".error { color: #d93025; }",
    "form { display: flex; gap: 6px; padding: 8px; border-top: 1px solid #eee; }",
    "textarea { flex: 1; resize: none; font: inherit; padding: 6px 8px; border: 1px solid #ccc; border-radius: 8px; }",
    "form button { border: 0; border-radius: 8px; background: #1f6feb; color: #fff; padding: 0 14px; cursor: pointer; font: inherit; }",
    "form button.attach { background: #e8eaed; color: #222; padding: 0 10px; }",
    ".files { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }",
    ".files img { max-width: 180px; max-height: 140px; border-radius: 6px; display: block; }",
    ".files a { color: inherit; }",
    ".rate { display: flex; flex-wrap: wrap; gap: 2px; margin-top: 6px; }",
    ".rate button { border: 1px solid #c4c7c5; background: #fff; border-radius: 6px; min-width: 30px; min-height: 30px;",
    "  cursor: pointer; font: inherit; color: #e37400; padding: 0 4px; }",
    ".rate button.chosen { background: #fbbc04; color: #222; }",
    ".rate button:disabled { cursor: default; }",
    ".rate .thanks { display: block; width: 100%; font-size: 12px; color: #555; }"
  ].join("\n");

  var MARKUP =
    '<button class="launcher" type="button" aria-label="Kefu">' +
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H8l-4 4V6a2 2 0 0 1 2-2z"/></svg>' +
    '<span class="badge" hidden></span></button>' +
    '<section class="panel" role="dialog" hidden>' +
    '<header><span class="dot"></span><strong class="title">Kefu</strong><span class="state"></span>' +
    '<button class="close" type="button">×</button></header>' +
    '<p class="notice" hidden></p>' +
    '<ol class="log" aria-live="polite"><li class="empty"></li></ol>' +
    '<p class="typing" hidden></p>' +
    '<p class="error" hidden></p>' +
    '<form><button type="button" class="attach">📎</button><input type="file" class="file" hidden multiple ' +
    'accept="image/jpeg,image/png,image/heic,image/webp,image/gif,application/pdf,.heic">' +
    '<textarea rows="2"></textarea><button type="submit" class="send">➤</button></form>' +
    "</section>";

  var host = document.createElement("div");
  host.setAttribute("data-kefu-chat", "");
  var root = host.attachShadow ? host.attachShadow({mode: "open"}) : host;
  // A constructed stylesheet rather than a <style> element where the browser has them: a
  // shop whose Content-Security-Policy allows no inline style still gets a styled widget.
  var adopted = false;
  if (root !== host && "adoptedStyleSheets" in root) {
    try {
      var sheet = new CSSStyleSheet();
      sheet.replaceSync(STYLE);
      root.adoptedStyleSheets = [sheet];
      adopted = true;
    } catch (e) { /* constructable stylesheets not supported: fall back to <style> */ }
  }
  if (!adopted) {
    var style = document.createElement("style");
    style.textContent = STYLE;
    root.appendChild(style);
  }
  var shell = document.createElement("div");
  shell.innerHTML = MARKUP;  // static markup only; every text from outside goes in as textContent
  while (shell.firstChild) { root.appendChild(shell.firstChild); }

  function part(selector) { return root.querySelector(selector); }
  var launcher = part(".launcher"), badge = part(".badge"), panel = part(".panel");
  var dot = part(".dot"), stateLine = part(".state"), notice = part(".notice");
  var log = part(".log"), empty = part(".empty"), typingLine = part(".typing"), errorLine = part(".error");
  var form = part("form"), input = part("textarea"), attach = part(".attach"), fileInput = part(".file");

  var labels = {};
  var socket = null, retryDelay = 1000, refused = false, isOnline = false;
  var shown = {};        // message id -> element, so a repeat (history + live) shows once
  var ratings = {};      // survey invitation id -> its buttons
  var byClient = {};     // client message id -> element of the visitor's own message
  var pending = [];      // {client_id, text} sent but not acknowledged: resent on reconnect
  var unread = 0, typingSentAt = 0, typingStop = null, agentTypingHide = null, errorHide = null;

  function label(name, fallback) { return labels[name] || fallback || ""; }

  function applyLabels() {
    part(".title").textContent = label("title", "Kefu");
    launcher.setAttribute("aria-label", label("open", "Kefu"));
    part(".close").setAttribute("aria-label", label("close"));
    part(".send").setAttribute("aria-label", label("send"));
    part(".send").textContent = label("send", "➤");
    attach.setAttribute("aria-label", label("attach"));
    attach.title = label("attach");
    input.placeholder = label("placeholder");
    empty.textContent = label("empty");
    typingLine.textContent = label("typing");
    setState(socket && socket.readyState === 1 ? (isOnline ? "online" : "offline") : "connecting");
  }

  function setState(state) {
    dot.className = "dot" + (state === "online" ? " online" : "");
    stateLine.textContent = label(state);
  }

  function showError(text) {
    errorLine.textContent = text;
    errorLine.hidden = !text;
    clearTimeout(errorHide);
    if (text) { errorHide = setTimeout(function () { errorLine.hidden = true; }, 8000); }
  }

  function timeOf(iso) {
    if (!iso) { return ""; }
    var at = new Date(iso);
    return isNaN(at) ? "" : ("0" + at.getHours()).slice(-2) + ":" + ("0" + at.getMinutes()).slice(-2);
  }

  function render(message, isPending) {
    var item = document.createElement("li");
    item.className = "msg from-" + message.from + (isPending ? " pending" : "");
    var who = document.createElement("span");
    who.className = "who";
    var name = message.from === "visitor" ? label("you") : message.from === "bot" ? label("bot") : (message.name || label("agent"));
    who.textContent = [name, timeOf(message.at)].filter(Boolean).join(" · ");
    var text = document.createElement("span");
    text.textContent = message.text;
    item.appendChild(who);
    item.appendChild(text);
    appendFiles(item, message.files || []);
    if (message.rate && message.id != null) { appendRating(item, message); }
    if (empty.parentNode) { empty.remove(); }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  // A message's files: a photo inline, a PDF as a link; both open Kefu's signed link.
  function appendFiles(item, files) {
    if (!files.length) { return; }
    var box = document.createElement("span");
    box.className = "files";
    files.forEach(function (file) {
      var url;
      try { url = new URL(file.url, base).href; } catch (e) { return; }
      if (!/^https?:/.test(url)) { return; }
      var link = document.createElement("a");
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      if (/^image\//.test(file.type)) {
        var image = document.createElement("img");
        image.src = url;
        image.alt = file.name;
        link.appendChild(image);
      } else {
        link.textContent = "📄 " + file.name;
      }
      box.appendChild(link);
    });
    item.appendChild(box);
  }

  // A survey invitation: its scale as buttons (stars for 1-5, numbers for 0-10); a tap sends
  // the score on the socket and the buttons stay disabled once Kefu has stored it.
  function appendRating(item, message) {
    var box = document.createElement("span");
    box.className = "rate";
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", label("rate"));
    var stars = message.rate.min === 1 && message.rate.max === 5;
    for (var score = message.rate.min; score <= message.rate.max; score++) {
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = stars ? "★" : String(score);
      button.title = String(score);
      button.setAttribute("data-score", String(score));
      button.addEventListener("click", (function (value) {
        return function () { send({type: "rate", id: message.id, score: value}); };
      })(score));
      box.appendChild(button);
    }
    ratings[message.id] = box;
    item.appendChild(box);
  }

  function markRated(id, score) {
    var box = ratings[id];
    if (!box) { return; }
    Array.prototype.forEach.call(box.querySelectorAll("button"), function (button) {
      button.disabled = true;
      if (Number(button.getAttribute("data-score")) <= score) { button.classList.add("chosen"); }
    });
    if (!box.querySelector(".thanks")) {
      var thanks = document.createElement("span");
      thanks.className = "thanks";
      thanks.textContent = label("rated");
      box.appendChild(thanks);
    }
  }

  function show(message) {
    if (message.id != null && shown[message.id]) { return false; }
    var item = message.client_id && byClient[message.client_id];
    if (item) {
      item.classList.remove("pending");
      if ((message.files || []).length && !item.querySelector(".files")) { appendFiles(item, message.files); }
    } else {
      item = render(message, false);
    }
    if (message.id != null) { shown[message.id] = item; }
    return true;
  }

  function send(frame) {
    if (socket && socket.readyState === 1) { socket.send(JSON.stringify(frame)); return true; }
    return false;
  }

  function confirmShown(messages) {
    var ids = messages.filter(function (m) { return m.from !== "visitor" && m.id != null; }).map(function (m) { return m.id; });
    if (ids.length) { send({type: "seen", ids: ids.slice(-50)}); }
  }

  function countUnread(count) {
    unread = panel.hidden ? unread + count : 0;
    badge.textContent = String(unread);
    badge.hidden = unread === 0;
  }

  function handle(frame) {
    if (frame.type === "hello") {
      if (previousVisitor) { forget(storageKey + ":visitor"); previousVisitor = null; }
      labels = frame.labels || {};
      isOnline = !!frame.online;
      applyLabels();
      notice.textContent = frame.notice || "";
      notice.hidden = !frame.notice;
      if (frame.max_chars) { input.maxLength = frame.max_chars; }
      var fresh = (frame.history || []).filter(show);
      confirmShown(frame.history || []);
      countUnread(fresh.filter(function (m) { return m.from !== "visitor"; }).length);
      pending.forEach(function (item) { send({type: "message", id: item.client_id, text: item.text}); });
    } else if (frame.type === "message") {
      var message = frame.message || {};
      if (show(message) && message.from !== "visitor") {
        typingLine.hidden = true;
        confirmShown([message]);
        countUnread(1);
      }
    } else if (frame.type === "ack") {
      pending = pending.filter(function (item) { return item.client_id !== frame.client_id; });
      var mine = byClient[frame.client_id];
      if (mine) {
        mine.classList.remove("pending");
        if (frame.id != null) { shown[frame.id] = mine; }
      }
    } else if (frame.type === "rated") {
      markRated(frame.id, frame.score);
    } else if (frame.type === "typing") {
      typingLine.hidden = !frame.typing;
      clearTimeout(agentTypingHide);
      if (frame.typing) { agentTypingHide = setTimeout(function () { typingLine.hidden = true; }, 8000); }
    } else if (frame.type === "error") {
      showError(frame.message || "");
      if (frame.client_id && byClient[frame.client_id]) {
        if (frame.code === "rate_limited" || frame.code === "busy") {
          // Still pending: it goes again after the wait (or on the next reconnect).
          setTimeout(function () {
            pending.filter(function (item) { return item.client_id === frame.client_id; }).forEach(function (item) {
              send({type: "message", id: item.client_id, text: item.text});
            });
          }, Math.max(1000, (frame.retry_after || 1) * 1000));
        } else {
          pending = pending.filter(function (item) { return item.client_id !== frame.client_id; });
          byClient[frame.client_id].classList.add("failed");
        }
      }
    }
  }

  function connect() {
    setState("connecting");
    socket = new WebSocket(socketUrl());
    socket.onopen = function () { retryDelay = 1000; };
    socket.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame && typeof frame === "object") { handle(frame); }
    };
    socket.onclose = function (event) {
      socket = null;
      setState("offline");
      // 44xx: refused (wrong signature, origin, site); reconnecting would be refused again.
      if (event.code >= 4400 && event.code < 4500) { refused = true; return; }
      setTimeout(connect, retryDelay);
      retryDelay = Math.min(retryDelay * 2, 30000);
    };
  }

  function typing(isTyping) {
    var now = Date.now();
    clearTimeout(typingStop);
    if (isTyping) {
      if (now - typingSentAt > 2500) { typingSentAt = now; send({type: "typing", typing: true}); }
      typingStop = setTimeout(function () { typing(false); }, 3000);
    } else if (typingSentAt) {
      typingSentAt = 0;
      send({type: "typing", typing: false});
    }
  }

  function submit() {
    var text = input.value.trim();
    if (!text || refused) { return; }
    var clientId = "c" + randomHex(12);
    if (!CLIENT_ID.test(clientId)) { return; }
    pending.push({client_id: clientId, text: text});
    byClient[clientId] = render({from: "visitor", text: text, at: new Date().toISOString()}, true);
    input.value = "";
    typingSentAt = 0;
    clearTimeout(typingStop);
    send({type: "message", id: clientId, text: text});
  }

  // Photos and PDFs go over HTTP (a socket frame is no place for a file); the answer is an
  // ack like a typed message's, and the message itself arrives on the socket.
  function upload(fileList) {
    var files = Array.prototype.slice.call(fileList || []);
    if (!files.length || refused) { return; }
    var clientId = "f" + randomHex(12);
    var body = new FormData();
    identityParams().forEach(function (value, key) { body.append(key, value); });
    body.append("id", clientId);
    body.append("text", input.value.trim());
    files.forEach(function (file) { body.append("files", file, file.name); });
    var item = render({from: "visitor", text: files.map(function (f) { return "📎 " + f.name; }).join("\n"), at: new Date().toISOString()}, true);
    byClient[clientId] = item;
    input.value = "";
    fetch(new URL("/chat/" + encodeURIComponent(data.site) + "/upload/", base).href, {method: "POST", body: body, credentials: "omit"})
      .then(function (response) { return response.json().catch(function () { return {type: "error", message: label("failed")}; }); })
      .then(function (answer) {
        if (answer.type === "ack") {
          // The message itself (with its files) comes on the socket and finds this item by
          // its client id.
          item.classList.remove("pending");
        } else {
          item.classList.add("failed");
          showError(answer.message || "");
        }
      })
      .catch(function () { item.classList.add("failed"); });
  }

  function open() {
    panel.hidden = false;
    countUnread(0);
    input.focus();
  }

  function close() { panel.hidden = true; }

  launcher.addEventListener("click", function () { if (panel.hidden) { open(); } else { close(); } });
  part(".close").addEventListener("click", close);
  attach.addEventListener("click", function () { fileInput.click(); });
  fileInput.addEventListener("change", function () { upload(fileInput.files); fileInput.value = ""; });
  form.addEventListener("submit", function (event) { event.preventDefault(); submit(); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); submit(); }
  });
  input.addEventListener("input", function () { typing(input.value.trim() !== ""); });

  function start() {
    document.body.appendChild(host);
    if (data.open === "true") { open(); }
    connect();
  }

  window.KefuChat = {open: open, close: close};
  if (document.body) { start(); } else { document.addEventListener("DOMContentLoaded", start); }
})();
