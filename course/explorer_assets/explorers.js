/* The course's kernel-free explorers: one script for every kind, served once per page.
   Each explorer is a <div data-explorer="KIND" id="ID"> that holds its numbers (computed in
   Python when the book is built) in <script type="application/json" id="ID-data">; the
   explorer's own markup already shows its first state, so without JavaScript the reader
   still sees it. sxExplorers.init() wires every explorer on the page that is not wired yet
   (each explorer calls it after its markup, so it also works in a live notebook). */
(function () {
  "use strict";
  if (window.sxExplorers) { window.sxExplorers.init(); return; }
  var kinds = {};

  function readData(root) {
    return JSON.parse(document.getElementById(root.id + "-data").textContent);
  }

  kinds["temperature"] = function (root) {
    var id = root.id;
    var data = readData(root);
    var slider = document.getElementById(id + "-t");
    var readout = document.getElementById(id + "-out");
    var bars = root.querySelectorAll(".sx-bar");
    var vals = root.querySelectorAll(".sx-val");
    var rows = root.querySelectorAll(".sx-row");
    var z = data.logits, top = data.top, n = z.length;
    var inTop = {};
    top.forEach(function (i) { inTop[i] = true; });
    function update() {
      var T = data.temperatures[Number(slider.value)];
      var m = Math.max.apply(null, z), e = [], s = 0, i;
      for (i = 0; i < n; i++) { e.push(Math.exp((z[i] - m) / T)); s += e[i]; }
      var p = e.map(function (v) { return v / s; });
      var H = 0, other = 0;
      for (i = 0; i < n; i++) {
        if (p[i] > 0) { H -= p[i] * Math.log(p[i]); }
        if (!inTop[i]) { other += p[i]; }
      }
      var shown = top.map(function (j) { return p[j]; });
      if (shown.length < bars.length) { shown.push(other); }
      shown.forEach(function (v, k) {
        bars[k].style.width = (100 * v).toFixed(2) + "%";
        vals[k].textContent = v.toFixed(3);
        rows[k].setAttribute("data-value", String(v));
      });
      var tText = T.toPrecision(3);
      slider.setAttribute("aria-valuetext", "T = " + tText);
      root.setAttribute("data-temperature", String(T));
      readout.setAttribute("data-entropy", String(H));
      readout.setAttribute("data-temperature", String(T));
      readout.textContent = "T = " + tText + ": entropy " + H.toFixed(2) + " nats (at most " +
        Math.log(n).toFixed(2) + "); most likely " + data.labels[top[0]] + " with " +
        p[top[0]].toFixed(3);
    }
    slider.addEventListener("input", update);
    slider.addEventListener("change", update);
    update();
  };

  kinds["mask"] = function (root) {
    var id = root.id;
    var data = readData(root);
    var readout = document.getElementById(id + "-out");
    var cells = root.querySelectorAll("td.sx-cell");
    var sums = root.querySelectorAll("td.sx-sum");
    var n = data.n;
    function show(mode) {
      var d = data.modes[mode], empty = 0;
      for (var i = 0; i < n; i++) {
        var s = 0, any = false;
        for (var j = 0; j < n; j++) {
          var td = cells[i * n + j], w = d.weights[i][j], ok = d.mask[i][j];
          s += w; any = any || ok;
          td.setAttribute("data-weight", String(w));
          td.setAttribute("data-masked", ok ? "false" : "true");
          td.className = ok ? "sx-cell" : "sx-cell sx-masked";
          // The colour is the stylesheet's heat scale at --w (it follows dark mode).
          if (ok) { td.style.setProperty("--w", String(w)); } else { td.style.removeProperty("--w"); }
          td.textContent = ok ? w.toFixed(2) : "0";
          td.setAttribute("aria-label", "query " + i + ", key " + j + ": " +
            (ok ? w.toFixed(2) : "masked, 0"));
        }
        if (!any) { empty += 1; }
        sums[i].textContent = any ? s.toFixed(2) : "0";
        sums[i].setAttribute("data-sum", String(s));
      }
      root.setAttribute("data-mode", mode);
      readout.textContent = data.text[mode] + " " + (empty ?
        empty + " of " + n + " query rows are fully masked: all their weights are 0." :
        "No row is fully masked: every row sums to 1.");
    }
    root.querySelectorAll("input[type=radio]").forEach(function (r) {
      r.addEventListener("change", function () { if (r.checked) { show(r.value); } });
    });
    var checked = root.querySelector("input[type=radio]:checked");
    show(checked ? checked.value : root.getAttribute("data-mode"));
  };

  kinds["context-temperature"] = function (root) {
    var id = root.id;
    var data = readData(root);
    var slider = document.getElementById(id + "-t");
    var menu = document.getElementById(id + "-c");
    var readout = document.getElementById(id + "-out");
    var rows = root.querySelectorAll(".sx-row");
    function update() {
      var k = Number(slider.value), ctx = data.contexts[Number(menu.value)];
      var view = data.views[ctx], T = data.temperatures[k], values = view.values[k];
      rows.forEach(function (row, j) {
        var used = j < values.length;
        row.hidden = !used;
        if (!used) { return; }
        var other = j === values.length - 1, v = values[j];
        row.className = other ? "sx-row sx-other" : "sx-row";
        row.setAttribute("data-label", view.labels[j]);
        row.setAttribute("data-value", String(v));
        row.querySelector(".sx-lab").textContent = view.labels[j];
        row.querySelector(".sx-bar").style.width = (100 * v).toFixed(2) + "%";
        row.querySelector(".sx-val").textContent = v.toFixed(3);
      });
      var H = view.entropy[k], tText = T.toPrecision(3);
      slider.setAttribute("aria-valuetext", "T = " + tText);
      root.setAttribute("data-temperature", String(T));
      root.setAttribute("data-context", ctx);
      readout.setAttribute("data-entropy", String(H));
      readout.setAttribute("data-nucleus", String(view.nucleus[k]));
      readout.textContent = "After \u201c" + ctx + "\u201d at T = " + tText + ": entropy " +
        H.toFixed(2) + " nats (about " + Math.round(Math.exp(H)).toLocaleString("en-US") +
        " equally likely words); top-p with p = " + data.top_p + " keeps " +
        view.nucleus[k].toLocaleString("en-US") + " of " + data.n.toLocaleString("en-US") +
        " words.";
    }
    slider.addEventListener("input", update);
    slider.addEventListener("change", update);
    menu.addEventListener("change", update);
    update();
  };

  kinds["logits"] = function (root) {
    var id = root.id;
    var data = readData(root);
    var inputs = root.querySelectorAll("input[type=number]");
    var slider = document.getElementById(id + "-t");
    var readout = document.getElementById(id + "-out");
    var rows = root.querySelectorAll("tr.sx-opt");
    function update() {
      var T = data.temperatures[Number(slider.value)], z = [], i;
      for (i = 0; i < inputs.length; i++) {
        var v = parseFloat(inputs[i].value);
        z.push(isFinite(v) ? v : data.logits[i]);
      }
      var m = Math.max.apply(null, z), e = [], s = 0;
      for (i = 0; i < z.length; i++) { e.push(Math.exp((z[i] - m) / T)); s += e[i]; }
      var H = 0, lead = 0;
      for (i = 0; i < z.length; i++) {
        var p = e[i] / s;
        if (p > 0) { H -= p * Math.log(p); }
        if (z[i] > z[lead]) { lead = i; }
        var row = rows[i];
        row.setAttribute("data-p", String(p));
        row.setAttribute("data-odds", String(e[i]));
        row.querySelector(".sx-p").textContent = p.toFixed(3);
        row.querySelector(".sx-odds").textContent = e[i] >= 0.001 ? e[i].toPrecision(3) :
          e[i].toExponential(1);
        row.querySelector(".sx-bar").style.width = (100 * p).toFixed(2) + "%";
      }
      var tText = T.toPrecision(3);
      slider.setAttribute("aria-valuetext", "T = " + tText);
      root.setAttribute("data-temperature", String(T));
      readout.setAttribute("data-entropy", String(H));
      readout.textContent = "T = " + tText + ": entropy " + H.toFixed(3) + " nats (at most " +
        Math.log(z.length).toFixed(3) + "); the leader, " + data.labels[lead] + ", has " +
        (e[lead] / s).toFixed(3) + ".";
    }
    inputs.forEach(function (box) { box.addEventListener("input", update); });
    slider.addEventListener("input", update);
    slider.addEventListener("change", update);
    update();
  };

  kinds["online"] = function (root) {
    var id = root.id;
    var data = readData(root);
    var readout = document.getElementById(id + "-out");
    var cells = root.querySelectorAll("li.sx-z");
    var tbody = document.getElementById(id + "-rows");
    var prev = document.getElementById(id + "-prev"), next = document.getElementById(id + "-next");
    var size = String(data.initial), k = 0;
    function num(x) { return x === null ? "\u2212\u221e" : x.toFixed(3); }
    function show() {
      var run = data.runs[size], steps = run.steps, step = steps[k];
      cells.forEach(function (c, i) {
        var state = i < step.start ? "done" : (i < step.stop ? "current" : "todo");
        c.setAttribute("data-state", state);
      });
      var rows = "";
      for (var j = 0; j <= k; j++) {
        var s = steps[j];
        rows += "<tr" + (j === k ? " data-current=\"true\"" : "") + "><td>" + (j + 1) + "</td><td>" +
          s.start + "\u2013" + (s.stop - 1) + "</td><td>" + num(s.block_max) + "</td><td>" +
          num(s.block_sum) + "</td><td>" + num(s.rescale) + "</td><td>" + num(s.m) + "</td><td>" +
          num(s.s) + "</td></tr>";
      }
      tbody.innerHTML = rows;
      readout.textContent = run.text[k];
      root.setAttribute("data-step", String(k));
      root.setAttribute("data-block-size", size);
      prev.disabled = k === 0;
      next.disabled = k === steps.length - 1;
    }
    prev.addEventListener("click", function () { if (k > 0) { k -= 1; show(); } });
    next.addEventListener("click", function () {
      if (k < data.runs[size].steps.length - 1) { k += 1; show(); }
    });
    root.querySelectorAll("input[type=radio]").forEach(function (r) {
      r.addEventListener("change", function () { if (r.checked) { size = r.value; k = 0; show(); } });
    });
    show();
  };

  function init() {
    document.querySelectorAll("[data-explorer]").forEach(function (root) {
      if (root.hasAttribute("data-sx-ready")) { return; }
      var start = kinds[root.getAttribute("data-explorer")];
      if (!start) { throw new Error("no explorer of kind " + root.getAttribute("data-explorer")); }
      root.setAttribute("data-sx-ready", "true");
      start(root);
    });
  }

  window.sxExplorers = {init: init, kinds: kinds};
  init();
})();
