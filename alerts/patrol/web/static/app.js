// roomwatch patrol screen: live overview (server-sent events) and the
// print button. No framework; the page works without it.
(function () {
  "use strict";
  document.querySelectorAll("#print").forEach(function (b) {
    b.addEventListener("click", function () { window.print(); });
  });
  var rooms = document.getElementById("rooms");
  if (!rooms || !window.EventSource) { return; }
  var live = document.getElementById("live");
  var es = new EventSource(rooms.getAttribute("data-live"));
  es.addEventListener("overview", function (ev) {
    var data = JSON.parse(ev.data);
    data.rooms.forEach(function (r) {
      var el = rooms.querySelector('[data-room="' + CSS.escape(r.key) + '"]');
      if (!el) { return; }
      el.className = "room st-" + r.status;
      el.querySelectorAll("[data-f]").forEach(function (f) {
        var v = r[f.getAttribute("data-f")];
        if (v !== undefined) { f.textContent = v; }
        if (f.getAttribute("data-f") === "signed_text") { f.className = r.signed ? "signed" : "unsigned"; }
      });
    });
    if (live) { live.textContent = live.getAttribute("data-label") + " " + data.at; live.className = "live on"; }
  });
  es.onerror = function () { if (live) { live.className = "live off"; } };
})();
