(function () {
  "use strict";
  // Summary-only printing: a checkbox, or ?print=summary in the address.
  var summaryOnly = document.getElementById("print-summary");
  if (summaryOnly) {
    summaryOnly.checked = /(^|[?&])print=summary(&|$)/.test(window.location.search);
    var choose = function () { document.body.classList.toggle("print-summary", summaryOnly.checked); };
    summaryOnly.addEventListener("change", choose);
    choose();
  }
  var controls = document.getElementById("controls");
  var matrix = document.getElementById("matrix");
  if (!controls || !matrix) { return; }
  var body = matrix.tBodies[0];
  var boxes = Array.prototype.slice.call(controls.querySelectorAll("input[name=status]"));
  var search = document.getElementById("host-search");
  var shownCount = document.getElementById("shown-count");
  var rows = Array.prototype.slice.call(body.rows);
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.host"));

  function apply() {
    var wanted = {};
    boxes.forEach(function (box) { wanted[box.value] = box.checked; });
    var query = search.value.trim().toLowerCase();
    var visible = 0;
    rows.forEach(function (row) {
      var named = query === "" || row.getAttribute("data-host").toLowerCase().indexOf(query) >= 0;
      var any = row.getAttribute("data-statuses").split(" ").some(function (s) { return wanted[s]; });
      row.hidden = !(named && any);
      if (!row.hidden) { visible += 1; }
      Array.prototype.forEach.call(row.querySelectorAll("td.cell"), function (cell) {
        cell.classList.toggle("muted", !wanted[cell.getAttribute("data-status")]);
      });
    });
    var narrowed = boxes.some(function (box) { return !box.checked; });
    sections.forEach(function (section) {
      var named = query === "" ||
        section.getAttribute("data-host").toLowerCase().indexOf(query) >= 0;
      var seen = 0;
      Array.prototype.forEach.call(section.querySelectorAll("article.finding"), function (item) {
        item.hidden = !wanted[item.getAttribute("data-status")];
        if (!item.hidden) { seen += 1; }
      });
      section.hidden = !(named && seen > 0);
      // A narrowed filter unfolds the folded findings it asked for, and folds them back after.
      Array.prototype.forEach.call(section.querySelectorAll("details.fold"), function (fold) {
        var items = fold.querySelectorAll("article.finding");
        if (!items.length) { return; }
        if (!fold.hasAttribute("data-was-open")) { fold.setAttribute("data-was-open", fold.open ? "1" : ""); }
        var asked = Array.prototype.some.call(items, function (item) { return !item.hidden; });
        fold.hidden = !asked;
        fold.open = narrowed ? asked : fold.getAttribute("data-was-open") === "1";
      });
    });
    shownCount.textContent = visible + " of " + rows.length + " hosts shown";
  }

  function sortBy(index, header) {
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(matrix.tHead.rows[0].cells, function (th) {
      th.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var sorted = rows.slice().sort(function (a, b) {
      var x = a.cells[index].getAttribute("data-sort");
      var y = b.cells[index].getAttribute("data-sort");
      var order = index === 0 ? x.localeCompare(y) : Number(x) - Number(y);
      if (order === 0) {
        order = a.getAttribute("data-host").localeCompare(b.getAttribute("data-host"));
      }
      return ascending ? order : -order;
    });
    sorted.forEach(function (row) { body.appendChild(row); });
  }

  Array.prototype.forEach.call(matrix.tHead.rows[0].cells, function (th, index) {
    var button = document.createElement("button");
    button.type = "button";
    button.title = "sort by this column";
    while (th.firstChild) { button.appendChild(th.firstChild); }
    th.appendChild(button);
    button.addEventListener("click", function () { sortBy(index, th); });
  });
  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  search.addEventListener("input", apply);
  document.getElementById("show-all").addEventListener("click", function () {
    boxes.forEach(function (box) { box.checked = true; });
    search.value = "";
    apply();
  });
  controls.hidden = false;
  apply();
})();
