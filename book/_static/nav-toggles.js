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
  // A link in a navigation dialog that stays on this page (the page contents: "#...")
  // scrolls under the open dialog, which would keep covering the section the reader
  // asked for: close the dialog once the link has been followed.
  function closeOnInPageLink(dialogId) {
    var dialog = document.getElementById(dialogId);
    if (!dialog) {
      return;
    }
    dialog.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a[href]") : null;
      if (!link || !dialog.open || typeof dialog.close !== "function") {
        return;
      }
      var href = link.getAttribute("href") || "";
      var samePage = href.charAt(0) === "#" ||
        (link.pathname === window.location.pathname && link.hash !== "");
      if (samePage) {
        dialog.close();
      }
    });
  }
  function init() {
    forward(".primary-toggle");
    forward(".secondary-toggle");
    closeOnInPageLink("pst-secondary-sidebar-modal");
    closeOnInPageLink("pst-primary-sidebar-modal");
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
