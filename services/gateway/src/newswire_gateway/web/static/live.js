// Progressive enhancement for Newswire's pages; every page works without it.
// - keeps "N minutes ago" texts current (same rules as web/timeago.py);
// - elements with data-live-stream/-event/-src reload their fragment when the
//   server-sent event stream reports a change;
// - the comment form posts in place and swaps in the new comments section.
(function () {
  "use strict";
  var UNITS = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];

  function ago(then, now) {
    var seconds = (now - then) / 1000, future = seconds < 0;
    seconds = Math.abs(seconds);
    for (var i = 0; i < UNITS.length; i++) {
      if (seconds >= UNITS[i][1]) {
        var count = Math.floor(seconds / UNITS[i][1]);
        var amount = count + " " + UNITS[i][0] + (count === 1 ? "" : "s");
        return future ? "in " + amount : amount + " ago";
      }
    }
    return "just now";
  }

  function refreshTimes(root) {
    var now = Date.now();
    (root || document).querySelectorAll("time[data-time]").forEach(function (el) {
      var then = Date.parse(el.getAttribute("data-time"));
      if (!isNaN(then)) el.textContent = ago(then, now);
    });
  }

  function swap(el, response) {
    var type = response.headers.get("Content-Type") || "";
    if (type.indexOf("text/html") !== 0) throw new Error("not HTML: " + response.status);
    return response.text().then(function (html) {
      el.innerHTML = html; // server-rendered, escaped by the templates
      refreshTimes(el);
    });
  }

  function live(el) {
    if (!window.EventSource) return;
    var source = new EventSource(el.dataset.liveStream), timer = null;
    function reload() {
      clearTimeout(timer); // coalesce bursts of events into one fetch
      timer = setTimeout(function () {
        fetch(el.dataset.liveSrc, { headers: { Accept: "text/html" } })
          .then(function (response) { if (response.ok) return swap(el, response); })
          .catch(function () { /* keep what is shown; the next event retries */ });
      }, 250);
    }
    source.addEventListener(el.dataset.liveEvent, reload);
    source.addEventListener("reset", reload);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches("form[data-fragment]")) return;
    var section = document.getElementById(form.dataset.fragment);
    if (!section || !window.fetch) return;
    event.preventDefault();
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    fetch(form.action, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      headers: { "X-Newswire-Fragment": form.dataset.fragment },
    })
      .then(function (response) {
        // A missing article or a server error: let the plain post show its full page.
        if (response.status === 404 || response.status >= 500) throw new Error("no fragment");
        return swap(section, response);
      })
      .catch(function () { form.submit(); }); // fall back to the plain form post
  });

  document.querySelectorAll("[data-live-stream]").forEach(live);
  refreshTimes();
  setInterval(refreshTimes, 60000);
})();
