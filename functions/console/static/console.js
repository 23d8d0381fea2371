// Progressive enhancements: every page works without this file; it adds live progress, quick filters,
// keyboard annotation and sign-in from a provider's redirect.
(function () {
  "use strict";

  // Filters apply as soon as one is picked.
  document.querySelectorAll("[data-autosubmit]").forEach(function (input) {
    input.addEventListener("change", function () { input.form.submit(); });
  });

  // A provider that sends the browser back with #access_token=... signs it in without pasting.
  var fromFragment = document.querySelector("form[data-from-fragment]");
  if (fromFragment && location.hash.length > 1) {
    var params = new URLSearchParams(location.hash.slice(1));
    var token = params.get(fromFragment.dataset.fromFragment);
    history.replaceState(null, "", location.pathname + location.search);
    if (token) {
      fromFragment.querySelector("[name=access_token]").value = token;
      fromFragment.submit();
    }
  }

  // Runs in progress: poll a small JSON document and update the rows in place.
  var runs = document.querySelector("[data-poll]");
  if (runs) {
    var poll = function () {
      fetch(runs.dataset.poll, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (body) {
          if (!body) { return; }
          var running = false;
          body.runs.forEach(function (run) {
            var row = document.querySelector('[data-run="' + run.id + '"]');
            if (!row) { return; }
            var status = row.querySelector('[data-field="status"]');
            var wasRunning = !status.classList.contains("done") && status.textContent !== run.status;
            status.textContent = run.status;
            status.className = "status status-" + run.status + (run.finished ? " done" : "");
            var bar = row.querySelector('[data-field="percent"]');
            bar.value = run.percent; bar.textContent = run.percent + "%";
            if (!run.finished) { running = true; }
            if (run.finished && wasRunning && !document.getElementById("refresh-ranking")) {
              var note = document.createElement("p");
              note.setAttribute("role", "status");
              note.innerHTML = '<a id="refresh-ranking" href="' + location.pathname + '">A run finished: show the new ranking</a>';
              runs.parentNode.insertBefore(note, runs);
            }
          });
          if (running) { setTimeout(poll, 1500); }
        })
        .catch(function () { setTimeout(poll, 5000); });
    };
    if (document.querySelector('[data-field="status"]:not(.status-completed):not(.status-failed):not(.status-cancelled):not(.status-awaiting_human)')) {
      setTimeout(poll, 1000);
    }
  }

  // Annotation: digits pick a score, c focuses the comment, Enter (or n) submits, 1/2/t in pairwise mode.
  var annotate = document.querySelector("form[data-shortcuts]");
  if (annotate) {
    document.addEventListener("keydown", function (event) {
      var typing = event.target.tagName === "TEXTAREA" || (event.target.tagName === "INPUT" && event.target.type === "text");
      if (typing) {
        if (event.key === "Escape") { event.target.blur(); }
        return;
      }
      if (event.ctrlKey || event.metaKey || event.altKey) { return; }
      var choice = annotate.querySelector('[data-key="' + event.key.toLowerCase() + '"]');
      if (choice) { choice.checked = true; choice.focus(); event.preventDefault(); return; }
      if (event.key === "c") { var comment = annotate.querySelector("textarea"); if (comment) { comment.focus(); event.preventDefault(); } return; }
      if (event.key === "Enter" || event.key === "n") {
        if (annotate.querySelector("input[type=radio]:checked")) { event.preventDefault(); annotate.requestSubmit(); }
      }
    });
  }

  // Copy buttons for a value shown once.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var target = document.getElementById(button.dataset.copy);
      if (navigator.clipboard && target) { navigator.clipboard.writeText(target.textContent.trim()); button.textContent = "Copied"; }
    });
  });
})();
