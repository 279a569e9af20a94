/* The ticket page's reply box: the macro picker ("/" at the start of the box), the files'
 * limits checked before sending, and the draft kept when the server refuses a send.
 * Reads its URLs and limits from <form class="reply" data-…> (no inline script: CSP). */
(function () {
  "use strict";

  function init() {
    var form = document.querySelector("form.reply[data-macros-url]");
    if (!form) { return; }
    var box = form.querySelector("#id_body");
    var picker = form.querySelector("#macro-picker");
    var list = form.querySelector("#macro-list");
    var search = form.querySelector("#macro-search");
    var none = form.querySelector("#macro-empty");
    var chosen = form.querySelector("#id_macros");
    var actionsLine = form.querySelector("#macro-actions");
    var files = form.querySelector("#id_files");
    var filesError = form.querySelector("#files-error");
    var draftKey = "kefu-draft:" + form.dataset.number;

    var macros = null, loading = null, matches = [], active = 0, actions = [];

    function load() {
      if (macros) { return Promise.resolve(macros); }
      if (!loading) {
        loading = fetch(form.dataset.macrosUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
          .then(function (response) { return response.ok ? response.json() : {macros: []}; })
          .then(function (data) { macros = data.macros || []; return macros; })
          .catch(function () { loading = null; return []; });
      }
      return loading;
    }

    // The "/query" the box starts with while the caret is in it, or null.
    function slashQuery() {
      var value = box.value, caret = box.selectionStart || 0;
      if (value.charAt(0) !== "/") { return null; }
      var typed = value.slice(1, Math.max(caret, 1));
      return /[\n]/.test(typed) ? null : typed;
    }

    function matching(query) {
      var words = query.toLowerCase().split(/\s+/).filter(Boolean);
      return (macros || []).filter(function (macro) {
        var haystack = (macro.name + " " + macro.text).toLowerCase();
        return words.every(function (word) { return haystack.indexOf(word) >= 0; });
      });
    }

    function draw(query) {
      matches = matching(query);
      active = Math.min(active, Math.max(matches.length - 1, 0));
      list.textContent = "";
      matches.forEach(function (macro, index) {
        var item = document.createElement("li");
        item.className = "macro-option" + (index === active ? " active" : "");
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", index === active ? "true" : "false");
        item.dataset.index = String(index);
        var name = document.createElement("strong");
        name.textContent = macro.name;
        var meta = document.createElement("span");
        meta.className = "muted";
        meta.textContent = " · " + macro.language + (macro.actions.length ? " · " + macro.actions.join(", ") : "");
        var text = document.createElement("div");
        text.className = "muted macro-preview";
        text.textContent = macro.text.length > 120 ? macro.text.slice(0, 120) + "…" : macro.text;
        item.appendChild(name);
        item.appendChild(meta);
        item.appendChild(text);
        list.appendChild(item);
      });
      none.hidden = matches.length > 0;
    }

    function open(query) {
      picker.hidden = false;
      load().then(function () { if (!picker.hidden) { draw(query); } });
    }

    function close() { picker.hidden = true; active = 0; }

    function insert(macro) {
      var caret = box.selectionStart || 0;
      var rest = box.value.charAt(0) === "/" ? box.value.slice(Math.max(caret, 1)) : box.value;
      box.value = macro.text + rest;
      var ids = chosen.value ? chosen.value.split(",") : [];
      if (ids.indexOf(String(macro.id)) < 0) { ids.push(String(macro.id)); }
      chosen.value = ids.join(",");
      actions = actions.concat(macro.actions);
      actionsLine.textContent = actions.length ? (actionsLine.dataset.label || "⚙ ") + actions.join("; ") : "";
      actionsLine.hidden = actions.length === 0;
      close();
      box.focus();
      box.setSelectionRange(macro.text.length, macro.text.length);
    }

    function follow() {
      var query = slashQuery();
      if (query === null) { close(); return; }
      search.value = query;
      open(query);
    }

    box.addEventListener("input", follow);
    box.addEventListener("focus", follow);
    box.addEventListener("keyup", function (event) {
      if (["ArrowDown", "ArrowUp", "Enter", "Escape"].indexOf(event.key) < 0) { follow(); }
    });
    function keys(event) {
      if (picker.hidden) { return; }
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        var step = event.key === "ArrowDown" ? 1 : -1;
        active = (active + step + matches.length) % Math.max(matches.length, 1);
        draw(search.value);
      } else if (event.key === "Enter" && !event.isComposing && matches[active]) {
        event.preventDefault();
        insert(matches[active]);
      } else if (event.key === "Escape") {
        event.preventDefault();
        close();
      }
    }
    box.addEventListener("keydown", keys);
    search.addEventListener("keydown", keys);
    search.addEventListener("input", function () { active = 0; draw(search.value); });
    list.addEventListener("mousedown", function (event) {
      var item = event.target.closest ? event.target.closest(".macro-option") : null;
      if (!item) { return; }
      event.preventDefault();  // keep the box's focus and caret
      insert(matches[Number(item.dataset.index)]);
    });

    // Files: say at once what the server would refuse (it checks again).
    function checkFiles() {
      var chosenFiles = Array.prototype.slice.call(files.files || []);
      var max = Number(form.dataset.maxBytes), most = Number(form.dataset.maxFiles);
      var problem = "";
      if (chosenFiles.length > most) { problem = form.dataset.tooMany; }
      chosenFiles.forEach(function (file) {
        if (!problem && file.size > max) { problem = form.dataset.tooLarge.replace("%(name)s", file.name); }
      });
      filesError.textContent = problem;
      filesError.hidden = !problem;
      return !problem;
    }
    files.addEventListener("change", checkFiles);

    form.addEventListener("submit", function (event) {
      if (!checkFiles()) { event.preventDefault(); return; }
      try { window.sessionStorage.setItem(draftKey, box.value); } catch (e) { /* private mode */ }
    });

    // A send the server refused comes back with an error on the page: give the text back.
    try {
      var draft = window.sessionStorage.getItem(draftKey);
      window.sessionStorage.removeItem(draftKey);
      if (draft && !box.value && document.querySelector(".flash .error")) { box.value = draft; }
    } catch (e) { /* private mode */ }
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
