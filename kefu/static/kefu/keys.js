/* Keyboard shortcuts of the agent workspace (the list: templates/agent/_keys_help.html,
 * shown by "?"). Keys are ignored while typing in a field, and with Ctrl, Alt or Meta held
 * (except Ctrl/⌘+Enter in the reply box, which sends it).
 *
 * Queue:  j / k  next / previous row (a visible focus), Enter  open it.
 * Ticket: r  reply, n  internal note, a  assign to me, t  transfer (the control with id
 *         "transfer-open" when the page has one, else the team or priority control),
 *         /  the reply box with "/" typed in it (the macro picker reacts to that).
 */
(function () {
  "use strict";

  function typingIn(target) {
    if (!target || !target.closest) { return false; }
    return Boolean(target.closest("input, textarea, select, [contenteditable=''], [contenteditable=true]"));
  }

  // Queue rows ------------------------------------------------------------------------
  var current = null;  // the chosen row's ticket number: kept when htmx redraws the rows

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("#queue-rows tr[data-number]"));
  }

  function choose(row) {
    rows().forEach(function (other) { other.classList.remove("kbd-focus"); });
    if (!row) { current = null; return; }
    current = row.getAttribute("data-number");
    row.classList.add("kbd-focus");
    row.setAttribute("tabindex", "-1");
    row.focus({preventScroll: true});
    row.scrollIntoView({block: "nearest"});
  }

  function move(step) {
    var all = rows();
    if (!all.length) { return false; }
    var index = -1;
    all.forEach(function (row, i) { if (row.getAttribute("data-number") === current) { index = i; } });
    var next = index < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(all.length - 1, Math.max(0, index + step));
    choose(all[next]);
    return true;
  }

  function openChosen() {
    var row = rows().filter(function (r) { return r.getAttribute("data-number") === current; })[0];
    var link = row ? row.querySelector("a[href]") : null;
    if (!link) { return false; }
    location.href = link.href;
    return true;
  }

  // Ticket page -----------------------------------------------------------------------
  function replyBox() { return document.querySelector("form.reply textarea"); }

  function writeAs(mode) {
    var box = replyBox();
    if (!box) { return false; }
    box.form.classList.toggle("mode-note", mode === "note");
    box.form.setAttribute("data-mode", mode);
    box.focus();
    return true;
  }

  function slash() {
    var box = replyBox();
    if (!box) { return false; }
    writeAs("reply");
    var at = box.selectionStart === undefined ? box.value.length : box.selectionStart;
    box.setRangeText("/", at, box.selectionEnd === undefined ? at : box.selectionEnd, "end");
    box.dispatchEvent(new InputEvent("input", {bubbles: true, inputType: "insertText", data: "/"}));
    return true;
  }

  function assignToMe() {
    var form = document.querySelector("form[action$='/take/']");
    if (!form) { return false; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    return true;
  }

  function transfer() {
    var opener = document.getElementById("transfer-open");
    var details = opener && opener.closest("details");
    if (details) {
      // The ticket page's transfer card: opened (never toggled shut) and its first field ready.
      details.open = true;
      var field = details.querySelector("select, input:not([type=hidden]), textarea");
      if (field) { field.focus(); }
      return true;
    }
    if (opener) { opener.click(); return true; }
    var control = document.querySelector("select[name=team], select[name=tier]");
    if (!control) { return false; }
    control.focus();
    return true;
  }

  function sendWritten(box) {
    var mode = box.form.getAttribute("data-mode") === "note" ? "note" : "reply";
    var button = box.form.querySelector("button[name=kind][value=" + mode + "]:not([data-send-anyway])");
    if (!button) { return; }
    if (box.form.requestSubmit) { box.form.requestSubmit(button); } else { button.click(); }
  }

  // Help ------------------------------------------------------------------------------
  function help() {
    var dialog = document.getElementById("keys-help");
    if (!dialog) { return false; }
    if (dialog.open) { dialog.close(); } else if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.isComposing) { return; }
    var box = replyBox();
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && box && event.target === box) {
      event.preventDefault();
      sendWritten(box);
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey || typingIn(event.target)) { return; }
    var dialog = document.getElementById("keys-help");
    if (dialog && dialog.open && event.key !== "?") { return; }  // Esc closes it by itself
    var done = false;
    switch (event.key) {
      case "j": done = move(1); break;
      case "k": done = move(-1); break;
      case "Enter":  // on a link or button, Enter is theirs
        done = current !== null && !event.target.closest("a, button, summary") && openChosen();
        break;
      case "r": done = writeAs("reply"); break;
      case "n": done = writeAs("note"); break;
      case "a": done = assignToMe(); break;
      case "t": done = transfer(); break;
      case "/": done = slash(); break;
      case "?": done = help(); break;
    }
    if (done) { event.preventDefault(); }
  });

  // The rows are redrawn by live updates: the chosen one stays chosen.
  document.addEventListener("htmx:afterSettle", function () {
    if (current === null) { return; }
    var row = rows().filter(function (r) { return r.getAttribute("data-number") === current; })[0];
    if (row && !row.classList.contains("kbd-focus")) { row.classList.add("kbd-focus"); row.setAttribute("tabindex", "-1"); }
  });
})();
