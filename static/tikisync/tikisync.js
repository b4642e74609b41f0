/* tikisync-web: the little our pages do in the browser beyond htmx. No inline handlers
   (onclick=...) in the templates, so a Content-Security-Policy of script-src 'self' can hold.
   Listeners sit on the document, so they also serve fragments htmx swaps in later. Every page
   works without this file: the forms still post, the push preview still takes every item. */
(function () {
  "use strict";

  // <form data-tikisync-confirm="Question?">: ask before sending. htmx's hx-confirm covers
  // only requests htmx makes, and these forms are plain posts that redirect.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-tikisync-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Tell the server when our page is inside a frame: over plain http, browsers send no
  // Sec-Fetch-Dest, and the server's "open in a new tab" advice depends on it.
  document.addEventListener("htmx:configRequest", function (event) {
    if (window.top !== window.self) {
      event.detail.headers["X-Tikisync-Framed"] = "1";
    }
  });

  // <input type="checkbox" data-tikisync-select-all>: checks or clears every box of its table.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[data-tikisync-select-all]")) {
      return;
    }
    var table = box.closest("table");
    if (!table) {
      return;
    }
    table.querySelectorAll("tbody input[type=checkbox]").forEach(function (other) {
      other.checked = box.checked;
    });
  });
})();
