/* The explorers of paper.html: plain JavaScript, no library, no network. The data are inline
   (<script type="application/json" id="explorer-data">), written by coalitions.paper.explorer. */
(function () {
  "use strict";
  var DATA = JSON.parse(document.getElementById("explorer-data").textContent || "{}");

  function el(tag, attrs, kids) {
    var e = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (k === "text") { e.textContent = attrs[k]; }
        else if (k === "cls") { e.className = attrs[k]; }
        else { e.setAttribute(k, attrs[k]); }
      }
    }
    (kids || []).forEach(function (c) { if (c) { e.appendChild(c); } });
    return e;
  }
  function fmt(x, d) {
    if (x === null || x === undefined || x === "") { return ""; }
    if (typeof x !== "number") { return String(x); }
    var s = x.toFixed(d === undefined ? 3 : d);
    return (parseFloat(s) === 0) ? s.replace("-", "") : s;
  }
  function erfc(x) {            /* Numerical Recipes' erfc, |error| < 1.2e-7 */
    var z = Math.abs(x), t = 1 / (1 + 0.5 * z);
    var r = t * Math.exp(-z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 +
      t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 +
      t * 0.17087277)))))))));
    return x >= 0 ? r : 2 - r;
  }
  function pOf(est, se) { return (est === null || !se) ? null : erfc(Math.abs(est / se) / Math.SQRT2); }
  function cmp(a, b) {
    var na = typeof a === "number", nb = typeof b === "number";
    if (a === null || a === "") { return 1; }
    if (b === null || b === "") { return -1; }
    if (na && nb) { return a - b; }
    var fa = parseFloat(String(a).replace("\u2212", "-")), fb = parseFloat(String(b).replace("\u2212", "-"));
    if (!isNaN(fa) && !isNaN(fb) && /^[\-\u2212(]?[0-9.]/.test(String(a)) && /^[\-\u2212(]?[0-9.]/.test(String(b))) {
      return fa - fb;
    }
    return String(a).localeCompare(String(b));
  }

  /* ---------------------------------------------------------------- views */
  var views = Array.prototype.slice.call(document.querySelectorAll(".view"));
  var bar = document.getElementById("views");
  function show(id) {
    views.forEach(function (v) { v.hidden = (v.id !== id); });
    Array.prototype.forEach.call(bar.querySelectorAll("button"), function (b) {
      b.className = b.getAttribute("data-view") === id ? "on" : "";
    });
    window.scrollTo(0, 0);
  }
  bar.hidden = false;
  Array.prototype.forEach.call(bar.querySelectorAll("button"), function (b) {
    b.addEventListener("click", function () { show(b.getAttribute("data-view")); });
  });
  document.addEventListener("click", function (ev) {
    var a = ev.target.closest ? ev.target.closest("a[href^='#view-']") : null;
    if (a) { ev.preventDefault(); show(a.getAttribute("href").slice(1)); }
  });
  var start = (location.hash || "").slice(1);
  show(document.getElementById(start) && start.indexOf("view-") === 0 ? start : "view-paper");

  /* ---------------------------------------------------------------- sortable, filterable HTML tables */
  function enhance(table) {
    var head = table.tHead.rows[0], body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var n = head.cells.length, filters = [], dir = {};
    var frow = el("tr", {cls: "filters"});
    for (var i = 0; i < n; i++) {
      var inp = el("input", {type: "search", placeholder: "filter", "aria-label": "filter " + head.cells[i].textContent});
      inp.addEventListener("input", apply);
      filters.push(inp);
      frow.appendChild(el("th", null, [inp]));
    }
    table.tHead.appendChild(frow);
    var count = el("p", {cls: "count small"});
    table.parentNode.parentNode.insertBefore(count, table.parentNode);
    function apply() {
      var shown = 0;
      rows.forEach(function (r) {
        var ok = filters.every(function (f, i) {
          var q = f.value.trim().toLowerCase();
          return !q || r.cells[i].textContent.toLowerCase().indexOf(q) >= 0;
        });
        r.hidden = !ok;
        shown += ok ? 1 : 0;
      });
      count.textContent = shown + " of " + rows.length + " rows shown";
    }
    Array.prototype.forEach.call(head.cells, function (th, i) {
      th.className += " sort";
      th.title = "sort";
      th.addEventListener("click", function () {
        dir[i] = -(dir[i] || -1);
        rows.sort(function (a, b) { return dir[i] * cmp(a.cells[i].textContent.trim(), b.cells[i].textContent.trim()); });
        rows.forEach(function (r) { body.appendChild(r); });
      });
    });
    apply();
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.filterable"), enhance);

  /* ---------------------------------------------------------------- a data table with filters */
  function dataTable(host, cols, rows, opts) {
    opts = opts || {};
    var limit = opts.limit || 400, sortCol = null, sortDir = 1;
    var filters = cols.map(function () { return ""; });
    var table = el("table", {cls: "model data"});
    var thead = el("thead"), tbody = el("tbody");
    var hr = el("tr"), fr = el("tr", {cls: "filters"});
    cols.forEach(function (c, i) {
      var th = el("th", {cls: "sort", text: c, title: "sort"});
      th.addEventListener("click", function () {
        sortDir = sortCol === i ? -sortDir : 1; sortCol = i; render();
      });
      hr.appendChild(th);
      var inp = el("input", {type: "search", placeholder: "filter", "data-col": c, "aria-label": "filter " + c});
      inp.addEventListener("input", function () { filters[i] = inp.value.trim().toLowerCase(); render(); });
      fr.appendChild(el("th", null, [inp]));
    });
    thead.appendChild(hr); thead.appendChild(fr);
    table.appendChild(thead); table.appendChild(tbody);
    var info = el("p", {cls: "count small"});
    host.appendChild(info);
    host.appendChild(el("div", {cls: "scroll"}, [table]));
    function cellText(v, i) { return (opts.format ? opts.format(v, i) : fmt(v)); }
    function render() {
      var sel = rows.filter(function (r) {
        return filters.every(function (q, i) { return !q || cellText(r[i], i).toLowerCase().indexOf(q) >= 0; });
      });
      if (sortCol !== null) {
        sel = sel.slice().sort(function (a, b) { return sortDir * cmp(a[sortCol], b[sortCol]); });
      }
      while (tbody.firstChild) { tbody.removeChild(tbody.firstChild); }
      sel.slice(0, limit).forEach(function (r) {
        var tr = el("tr");
        r.forEach(function (v, i) { if (i < cols.length) { tr.appendChild(el("td", {text: cellText(v, i)})); } });
        if (opts.onRow) { tr.addEventListener("click", function () { opts.onRow(r, tr); }); tr.className = "click"; }
        tbody.appendChild(tr);
      });
      info.textContent = sel.length + " of " + rows.length + " rows match" +
        (sel.length > limit ? " (the first " + limit + " are shown; filter to narrow them)" : "");
      info.setAttribute("data-matches", String(sel.length));
    }
    render();
    return {render: render, table: table, info: info};
  }

  /* ---------------------------------------------------------------- results explorer */
  (function () {
    var host = document.getElementById("results-explorer");
    var R = DATA.results;
    host.innerHTML = "";
    if (!R || !R.rows.length) { host.appendChild(el("p", {text: "No results are available."})); return; }
    dataTable(host, R.cols, R.rows, {format: function (v, i) {
      if (R.cols[i] === "Estimate" || R.cols[i] === "SE" || R.cols[i] === "p") { return fmt(v, 3); }
      return fmt(v);
    }});
  })();

  /* ---------------------------------------------------------------- case browser */
  (function () {
    var host = document.getElementById("case-browser");
    var C = DATA.cases || {};
    host.innerHTML = "";
    var keys = Object.keys(C).filter(function (k) { return C[k].rows && C[k].rows.length; });
    if (!keys.length) { host.appendChild(el("p", {text: "No case data are available."})); return; }
    var pick = el("select", {id: "case-study", "aria-label": "study"});
    keys.forEach(function (k) { pick.appendChild(el("option", {value: k, text: C[k].study + " (" + C[k].rows.length + " " + C[k].unit + "s)"})); });
    var diff = el("input", {type: "checkbox", id: "case-diff"});
    var controls = el("p", {cls: "controls"}, [el("label", {text: "Study "}), pick, el("span", {text: "  "}), diff,
      el("label", {"for": "case-diff", text: " only units whose status differs between codings"})]);
    host.appendChild(controls);
    var tableHost = el("div"), detail = el("div", {cls: "detail", id: "case-detail"});
    host.appendChild(tableHost); host.appendChild(detail);
    function build() {
      var S = C[pick.value];
      var cols = S.cols.concat(S.codings);
      var rows = S.rows.map(function (r) {
        var coded = r[r.length - 1];
        return r.slice(0, S.cols.length).concat(coded.map(function (ix) { return ix === null ? "" : S.coded[ix][0]; }))
          .concat([coded]);
      });
      if (diff.checked) {
        rows = rows.filter(function (r) {
          var c = r.slice(S.cols.length, cols.length).filter(function (x) { return x !== ""; });
          return c.some(function (x) { return x !== c[0]; });
        });
      }
      tableHost.innerHTML = "";
      detail.innerHTML = "";
      dataTable(tableHost, cols, rows, {limit: 300, onRow: function (r) {
        var coded = r[r.length - 1];
        detail.innerHTML = "";
        detail.appendChild(el("h3", {text: r.slice(0, S.cols.length).join(" \u00b7 ")}));
        var t = el("table", {cls: "model"});
        t.appendChild(el("thead", null, [el("tr", null, [el("th", {text: "Coding"})].concat(
          S.coded_cols.map(function (c) { return el("th", {text: c}); })))]));
        var tb = el("tbody");
        S.codings.forEach(function (c, j) {
          var v = coded[j] === null ? [] : S.coded[coded[j]];
          tb.appendChild(el("tr", null, [el("th", {text: c})].concat(S.coded_cols.map(function (_, i) {
            return el("td", {cls: "wrap", text: v[i] || ""});
          }))));
        });
        t.appendChild(tb);
        detail.appendChild(el("div", {cls: "scroll"}, [t]));
      }});
    }
    pick.addEventListener("change", build);
    diff.addEventListener("change", build);
    build();
  })();

  /* ---------------------------------------------------------------- multiverse explorer */
  (function () {
    var host = document.getElementById("mv-explorer");
    var M = DATA.mv || {};
    host.innerHTML = "";
    var keys = Object.keys(M);
    if (!keys.length) { host.appendChild(el("p", {text: "No multiverse results are available."})); return; }
    var study = el("select", {id: "mv-study", "aria-label": "study"});
    keys.forEach(function (k) { study.appendChild(el("option", {value: k, text: M[k].study})); });
    var term = el("select", {id: "mv-term", "aria-label": "term"});
    var top = el("p", {cls: "controls"}, [el("label", {text: "Study "}), study, el("span", {text: "  "}),
      el("label", {text: "Term "}), term]);
    var sw = el("div", {cls: "switches", id: "mv-switches"});
    var summary = el("p", {cls: "count", id: "mv-summary"});
    var svgHost = el("div", {cls: "curve", id: "mv-curve"});
    var list = el("div");
    [top, sw, summary, svgHost, list].forEach(function (x) { host.appendChild(x); });
    var selects = [];
    function setup() {
      var S = M[study.value];
      term.innerHTML = "";
      S.terms.forEach(function (t, i) {
        term.appendChild(el("option", {value: String(i), text: t.label + (S.terms.length > 1 && t.track ? " (" + t.track + ")" : "")}));
      });
      sw.innerHTML = "";
      selects = S.switches.map(function (s, i) {
        var sel = el("select", {"data-switch": s.name, "aria-label": s.label});
        sel.appendChild(el("option", {value: "", text: "any"}));
        s.values.forEach(function (v, j) { sel.appendChild(el("option", {value: String(j), text: v})); });
        sel.addEventListener("change", draw);
        sw.appendChild(el("label", {cls: "switch"}, [el("span", {text: s.label}), sel]));
        return sel;
      });
      var base = el("button", {type: "button", id: "mv-baseline", text: "the baseline universe"});
      base.addEventListener("click", function () {
        var code = S.baseline === null ? null : S.codes[S.baseline];
        selects.forEach(function (sel, i) { sel.value = code ? String(parseInt(code.charAt(i), 36)) : ""; });
        draw();
      });
      var any = el("button", {type: "button", id: "mv-any", text: "every universe"});
      any.addEventListener("click", function () { selects.forEach(function (sel) { sel.value = ""; }); draw(); });
      sw.appendChild(el("p", null, [base, el("span", {text: " "}), any]));
      draw();
    }
    function draw() {
      var S = M[study.value], T = S.terms[parseInt(term.value || "0", 10)];
      var want = selects.map(function (s) { return s.value === "" ? null : parseInt(s.value, 10); });
      var match = [], all = [];
      S.codes.forEach(function (code, u) {
        var e = T.est[u], ok = want.every(function (w, i) { return w === null || parseInt(code.charAt(i), 36) === w; });
        if (e !== null) { all.push(u); }
        if (ok) { match.push(u); }
      });
      var est = match.filter(function (u) { return T.est[u] !== null; });
      var neg = 0, pos = 0;
      est.forEach(function (u) {
        var p = pOf(T.est[u], T.se[u]);
        if (p !== null && p < 0.05) { if (T.est[u] < 0) { neg++; } else { pos++; } }
      });
      summary.textContent = match.length + " of " + S.codes.length + " universes match; " + est.length +
        " estimated: " + neg + " negative and significant at 5%, " + pos + " positive and significant, " +
        (est.length - neg - pos) + " not significant.";
      summary.setAttribute("data-matches", String(match.length));
      curve(T, all, match);
      list.innerHTML = "";
      var cols = S.switches.map(function (s) { return s.label; }).concat(["Universe", "Estimate", "SE", "p"]);
      var rows = match.map(function (u) {
        return S.switches.map(function (s, i) { return s.values[parseInt(S.codes[u].charAt(i), 36)] || ""; })
          .concat([S.ids[u] + (u === S.baseline ? " (baseline)" : ""), T.est[u], T.se[u], pOf(T.est[u], T.se[u])]);
      });
      dataTable(list, cols, rows, {limit: 200, format: function (v) { return fmt(v, 3); }});
    }
    function curve(T, all, match) {
      var W = 860, H = 260, L = 50, B = 24, NS = "http://www.w3.org/2000/svg";
      var inMatch = {};
      match.forEach(function (u) { inMatch[u] = true; });
      var order = all.slice().sort(function (a, b) { return T.est[a] - T.est[b]; });
      var lo = Infinity, hi = -Infinity;
      order.forEach(function (u) {
        var s = T.se[u] || 0;
        lo = Math.min(lo, T.est[u] - 1.96 * s); hi = Math.max(hi, T.est[u] + 1.96 * s);
      });
      if (!order.length) { svgHost.innerHTML = ""; svgHost.appendChild(el("p", {text: "No universe has an estimate of this term."})); return; }
      lo = Math.min(lo, 0); hi = Math.max(hi, 0);
      if (hi - lo < 1e-9) { hi = lo + 1; }
      function y(v) { return 8 + (H - B - 8) * (hi - v) / (hi - lo); }
      function x(i) { return L + (W - L - 10) * (i + 0.5) / order.length; }
      var svg = document.createElementNS(NS, "svg");
      svg.setAttribute("viewBox", "0 0 " + W + " " + H);
      svg.setAttribute("width", "100%");
      svg.setAttribute("role", "img");
      svg.setAttribute("aria-label", "specification curve");
      function add(tag, at) {
        var e = document.createElementNS(NS, tag);
        for (var k in at) { e.setAttribute(k, at[k]); }
        svg.appendChild(e);
        return e;
      }
      add("line", {x1: L, x2: W - 10, y1: y(0), y2: y(0), stroke: "#888", "stroke-dasharray": "4 3"});
      [lo, (lo + hi) / 2, hi].forEach(function (v) {
        add("text", {x: L - 6, y: y(v) + 4, "text-anchor": "end", "font-size": "11"}).textContent = fmt(v, 2);
      });
      order.forEach(function (u, i) {
        var on = !!inMatch[u], s = T.se[u] || 0, p = pOf(T.est[u], T.se[u]);
        var col = on ? (p !== null && p < 0.05 ? "#0072B2" : "#56B4E9") : "#ddd";
        add("line", {x1: x(i), x2: x(i), y1: y(T.est[u] - 1.96 * s), y2: y(T.est[u] + 1.96 * s), stroke: col,
          "stroke-width": on ? 1.4 : 1, "class": on ? "m" : "o"});
        add("circle", {cx: x(i), cy: y(T.est[u]), r: on ? 2.6 : 1.6, fill: col, "class": on ? "m" : "o"});
      });
      add("text", {x: L, y: H - 6, "font-size": "11"}).textContent =
        "universes sorted by the estimate of " + T.label + "; coloured: the universes that match (dark: p < 0.05), with 95% intervals";
      svgHost.innerHTML = "";
      svgHost.appendChild(svg);
    }
    study.addEventListener("change", setup);
    term.addEventListener("change", draw);
    setup();
  })();
})();
