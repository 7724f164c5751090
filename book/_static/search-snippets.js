/*
 * Search result snippets without raw TeX.
 *
 * Sphinx 7.4's searchtools builds each snippet from the result page's HTML via
 * Search.htmlToText, whose textContent includes the TeX source of every maths span
 * (\( \sum_{j} e^{z_j} \)). We wrap it: maths elements are replaced by a plain reading
 * of their source (delimiters, backslashes and braces dropped, common symbols mapped).
 */
(function () {
  "use strict";
  var SYMBOLS = {sum: "Σ", exp: "exp", log: "log", max: "max", top: "ᵀ", cdot: "·",
    infty: "∞", le: "≤", ge: "≥", leq: "≤", geq: "≥", to: "→", in: "∈", times: "×",
    alpha: "α", beta: "β", tau: "τ", sigma: "σ", partial: "∂", mathbb: "", mathbf: "",
    operatorname: "", frac: "", left: "", right: "", quad: " ", qquad: " ", text: "",
    mathrm: "", sqrt: "√", ldots: "…", dots: "…", approx: "≈", neq: "≠", ne: "≠"};
  function plain(tex) {
    return tex
      .replace(/\\[()[\]]/g, " ")
      .replace(/\\([A-Za-z]+)/g, function (m, name) {
        return Object.prototype.hasOwnProperty.call(SYMBOLS, name) ? SYMBOLS[name] : name;
      })
      .replace(/\\./g, " ")
      .replace(/[{}$&]/g, "")
      .replace(/\s+/g, " ")
      .trim();
  }
  function install() {
    if (typeof Search === "undefined" || !Search.htmlToText || Search.htmlToText._plain) {
      return;
    }
    var original = Search.htmlToText;
    var wrapped = function (htmlString, anchor) {
      var doc = new DOMParser().parseFromString(htmlString, "text/html");
      doc.querySelectorAll(".math, mjx-container").forEach(function (el) {
        el.replaceWith(doc.createTextNode(" " + plain(el.textContent) + " "));
      });
      return original(doc.documentElement.outerHTML, anchor);
    };
    wrapped._plain = true;
    Search.htmlToText = wrapped;
  }
  install();
  document.addEventListener("DOMContentLoaded", install);
})();
