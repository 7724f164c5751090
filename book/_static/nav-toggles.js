/*
 * Make the visible sidebar toggles work.
 *
 * pydata-sphinx-theme 0.17.1 (setupMobileSidebarKeyboardHandlers) and sphinx-book-theme
 * 1.3.0 (fixSidebarToggle) attach their click handlers to
 * document.querySelector(".primary-toggle") / (".secondary-toggle"): the FIRST such button
 * in the page. With the book theme's layout that is the header's copy, which its CSS hides;
 * the buttons a reader sees (article header) only get tooltip listeners. We forward a
 * click on any other toggle to the first one, so the themes' own handlers run unchanged
 * (dialog on narrow screens, collapse on wide ones).
 */
(function () {
  "use strict";
  function forward(selector) {
    var buttons = document.querySelectorAll(selector);
    if (buttons.length < 2) {
      return;
    }
    var wired = buttons[0];
    for (var i = 1; i < buttons.length; i += 1) {
      buttons[i].addEventListener("click", function (event) {
        event.preventDefault();
        event.stopPropagation();
        wired.click();
      });
    }
  }
  function init() {
    forward(".primary-toggle");
    forward(".secondary-toggle");
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
