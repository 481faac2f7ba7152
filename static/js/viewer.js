// The photo page as a viewer: ← and → (or a swipe) go to the previous and next photo, and
// the like button answers without a reload. Without this script the links and the form work.
(function () {
  "use strict";
  var previous = document.getElementById("photo-previous");
  var next = document.getElementById("photo-next");
  var viewer = document.getElementById("viewer");

  function go(link) { if (link) window.location.assign(link.href); }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
    if (event.key === "ArrowLeft") { event.preventDefault(); go(previous); }
    if (event.key === "ArrowRight") { event.preventDefault(); go(next); }
  });

  // A swipe: a mostly sideways move of a finger (or a pressed mouse) across the photo.
  var MIN_SWIPE = 50;
  var start = null;
  if (viewer) {
    viewer.addEventListener("pointerdown", function (event) {
      if (event.isPrimary) start = {x: event.clientX, y: event.clientY};
    });
    viewer.addEventListener("pointercancel", function () { start = null; });
    viewer.addEventListener("pointerup", function (event) {
      if (!start || !event.isPrimary) return;
      var dx = event.clientX - start.x, dy = event.clientY - start.y;
      start = null;
      if (Math.abs(dx) < MIN_SWIPE || Math.abs(dx) < 2 * Math.abs(dy)) return;
      go(dx < 0 ? next : previous);  // a swipe to the left brings the next photo
    });
  }

  var form = document.getElementById("like-form");
  var status = document.getElementById("like-status");
  if (!form || !window.fetch) return;
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = form.querySelector("button");
    var field = form.querySelector("input[name=liked]");
    var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
    button.disabled = true;
    fetch(form.action, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Accept": "application/json", "X-CSRFToken": token},
      body: new FormData(form)
    }).then(function (response) {
      if (!response.ok) throw new Error(response.status);
      return response.json();
    }).then(function (data) {
      field.value = data.liked ? "0" : "1";
      button.textContent = data.liked ? "♥ Liked" : "♡ Like";
      button.classList.toggle("liked-on", data.liked);
      status.textContent = data.liked ? "Liked." : "Like taken back.";
      button.disabled = false;
    }).catch(function () {
      form.submit();  // the page's own way, which says what went wrong
    });
  });
}());
