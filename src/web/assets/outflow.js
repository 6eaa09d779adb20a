// Outflow admin pages: progressive enhancement only. Every form works without this script;
// it adds instant feedback (date range, team search, select-all, field and destination
// toggles, delete confirmation) and live status in the Exports and Drains tabs.
(function () {
  "use strict";

  function each(selector, fn, root) {
    Array.prototype.forEach.call((root || document).querySelectorAll(selector), fn);
  }

  // Date range: show the custom dates only for "Custom range"; end must not be before start.
  each("[data-range]", function (form) {
    var preset = form.querySelector("[name=preset]");
    var custom = form.querySelector("#custom-range");
    var start = form.querySelector("[name=start]");
    var end = form.querySelector("[name=end]");
    var message = form.querySelector("#range-error");
    function toggle() {
      if (preset && custom) custom.hidden = preset.value !== "custom";
    }
    function check() {
      if (!start || !end) return;
      var bad = preset && preset.value === "custom" && start.value && end.value && end.value < start.value;
      var text = bad ? "The end date must be on or after the start date." : "";
      end.setCustomValidity(text);
      if (message) message.textContent = text;
    }
    if (preset) preset.addEventListener("change", function () { toggle(); check(); });
    if (start) start.addEventListener("input", check);
    if (end) end.addEventListener("input", check);
    toggle();
    check();
  });

  // Team search: hide list items whose name does not contain the text.
  each("[data-filter-for]", function (input) {
    var list = document.getElementById(input.getAttribute("data-filter-for"));
    if (!list) return;
    var wrap = input.closest(".search");
    if (wrap) wrap.hidden = false;
    input.addEventListener("input", function () {
      var q = input.value.trim().toLowerCase();
      each("li[data-name]", function (li) {
        li.hidden = q !== "" && li.getAttribute("data-name").indexOf(q) === -1;
      }, list);
    });
  });

  // Select all: check or clear every team box; reflect partial selections.
  each("[data-select-all]", function (box) {
    var list = document.getElementById(box.getAttribute("data-select-all"));
    if (!list) return;
    function boxes() { return list.querySelectorAll("input[type=checkbox]"); }
    function sync() {
      var all = boxes(), on = 0;
      Array.prototype.forEach.call(all, function (b) { if (b.checked) on++; });
      box.checked = all.length > 0 && on === all.length;
      box.indeterminate = on > 0 && on < all.length;
    }
    box.addEventListener("change", function () {
      Array.prototype.forEach.call(boxes(), function (b) { b.checked = box.checked; });
    });
    list.addEventListener("change", sync);
    sync();
  });

  // Show the custom field checkboxes only with the Custom preset.
  each("[data-field-presets]", function (group) {
    var custom = document.getElementById("custom-fields");
    function toggle() {
      var chosen = group.querySelector("input[name=field_preset]:checked");
      if (custom) custom.hidden = !chosen || chosen.value !== "custom";
    }
    group.addEventListener("change", toggle);
    toggle();
  });

  // Show only the settings of the chosen destination type.
  each("[data-dest-types]", function (group) {
    function toggle() {
      var chosen = group.querySelector("input[name=dest_type]:checked");
      each("[data-dest]", function (fs) {
        var on = chosen && fs.getAttribute("data-dest") === chosen.value;
        fs.hidden = !on;
        each("input, select, textarea", function (el) { el.disabled = !on; }, fs);
      });
    }
    group.addEventListener("change", toggle);
    toggle();
  });

  // Confirm before destructive actions; without the script the server asks instead.
  each("form[data-confirm]", function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        e.preventDefault();
        return;
      }
      var yes = document.createElement("input");
      yes.type = "hidden";
      yes.name = "confirm";
      yes.value = "yes";
      form.appendChild(yes);
    });
  });

  // Live status: poll the table's JSON and update the rows in place.
  each("[data-poll-url]", function (table) {
    var url = table.getAttribute("data-poll-url");
    var every = parseInt(table.getAttribute("data-poll-ms") || "2000", 10);
    var always = table.hasAttribute("data-poll-always");
    function set(row, role, text) {
      var el = row.querySelector("[data-role=" + role + "]");
      if (el && text !== undefined && text !== null && el.textContent !== String(text)) el.textContent = text;
      return el;
    }
    function apply(item) {
      var row = table.querySelector("tr[data-id='" + item.id + "']");
      if (!row) return;
      var badge = set(row, item.state !== undefined ? "state" : "status", item.label);
      if (badge && item.badge) badge.className = "badge " + item.badge;
      set(row, "rows", item.rows);
      set(row, "size", item.size);
      set(row, "synced", item.last_synced);
      set(row, "records", item.records);
      var link = row.querySelector("[data-role=download]");
      if (link && item.download_url) {
        link.innerHTML = "";
        var a = document.createElement("a");
        a.href = item.download_url;
        a.textContent = "Download";
        a.setAttribute("download", "");
        link.appendChild(a);
      }
      row.setAttribute("data-final", item.final ? "true" : "false");
    }
    function pending() {
      return always || table.querySelector("tr[data-final=false]") !== null;
    }
    function tick() {
      if (!pending()) return;
      if (document.hidden) { window.setTimeout(tick, every); return; }
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
        .then(function (body) {
          (body.items || []).forEach(apply);
          window.setTimeout(tick, every);
        })
        .catch(function () { /* signed out or offline: stop polling */ });
    }
    window.setTimeout(tick, every);
  });
})();
