// The photoshoot page refreshes itself while the photoshoot works: its steps, bar and
// sentences (the server's own, so the page reads the same without this script), then the
// photos as they come, under their scene's heading.
(function () {
  "use strict";
  var card = document.getElementById("photoshoot-progress");
  if (!card || card.dataset.final === "1") return;
  var gallery = document.getElementById("gallery");
  // The status lists the first page's photos: add them live on that page only.
  var page = new URLSearchParams(window.location.search).get("page");
  var firstPage = !page || page === "1";
  var STATES = {done: " (done)", failed: " (stopped here)", current: " (under way)", todo: ""};

  function byId(id) { return document.getElementById(id); }

  function showSteps(steps) {
    steps.forEach(function (step) {
      var li = card.querySelector('[data-step="' + step.key + '"]');
      if (!li) return;
      li.className = "progress-step " + step.state;
      if (step.current) li.setAttribute("aria-current", "step"); else li.removeAttribute("aria-current");
      li.querySelector(".progress-step-label").textContent = step.label;
      li.querySelector(".progress-step-state").textContent = STATES[step.state] || "";
    });
  }

  function showProgress(data) {
    byId("photoshoot-status").textContent = data.label;
    byId("photoshoot-detail").textContent = data.detail;
    showSteps(data.steps);
    var bar = byId("photoshoot-bar");
    if (bar && data.fraction !== null) {
      var percent = Math.round(data.fraction * 100);
      bar.value = percent;
      bar.textContent = percent + "%";
    }
    var estimate = byId("photoshoot-estimate");
    if (estimate) {
      estimate.hidden = !data.estimate || data.estimate === data.detail;
      estimate.textContent = data.estimate.charAt(0).toUpperCase() + data.estimate.slice(1);
    }
  }

  function photoItem(photo) {
    var li = document.createElement("li");
    li.className = "photo done";
    li.dataset.code = photo.code;
    var link = document.createElement("a");
    link.href = photo.url;
    var img = document.createElement("img");
    img.src = photo.thumbnail_url;
    link.appendChild(img);
    li.appendChild(link);
    return li;
  }

  function sceneSection(photo) {
    var section = document.createElement("section");
    section.className = "scene";
    section.dataset.scene = String(photo.scene);
    var heading = document.createElement("h2");
    heading.className = "scene-title";
    heading.textContent = photo.scene_title;
    var list = document.createElement("ul");
    list.className = "photo-grid gallery";
    section.appendChild(heading);
    section.appendChild(list);
    return section;
  }

  // The photos in runs of one scene each, in the gallery's order.
  function runs(photos) {
    var result = [];
    photos.forEach(function (photo) {
      var last = result[result.length - 1];
      if (!last || last.scene !== photo.scene) result.push(last = {scene: photo.scene, photos: []});
      last.photos.push(photo);
    });
    return result;
  }

  // The first page as the server orders it (scene by scene), not as the photos arrived:
  // a photo of an earlier scene goes before those of later ones, as it will after the reload.
  function showPhotos(photos) {
    var items = {}, sections = {};
    Array.prototype.forEach.call(gallery.querySelectorAll("li.photo"), function (li) { items[li.dataset.code] = li; });
    Array.prototype.forEach.call(gallery.querySelectorAll("section.scene"), function (s) { sections[s.dataset.scene] = s; });
    var number = 0;
    runs(photos).forEach(function (run, at) {
      var section = sections[String(run.scene)] || sceneSection(run.photos[0]);
      delete sections[String(run.scene)];
      if (gallery.children[at] !== section) gallery.insertBefore(section, gallery.children[at] || null);
      var list = section.querySelector("ul");
      run.photos.forEach(function (photo, place) {
        var li = items[photo.code] || photoItem(photo);
        delete items[photo.code];
        if (list.children[place] !== li) list.insertBefore(li, list.children[place] || null);
        number += 1;
        li.querySelector("img").alt = "Photo " + number;
      });
    });
    // Pushed off the first page by photos of earlier scenes.
    Object.keys(items).forEach(function (code) { items[code].remove(); });
    Object.keys(sections).forEach(function (scene) { sections[scene].remove(); });
  }

  function refresh() {
    fetch(card.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        // Sent to the login page (the session ended): reload, and the page says so itself.
        if (response.redirected) { window.location.reload(); return undefined; }
        return response.ok ? response.json() : null;
      })
      .then(function (data) {
        if (data === undefined) return;
        if (!data || !data.photos) { window.setTimeout(refresh, 10000); return; }
        showProgress(data);
        if (firstPage) showPhotos(data.photos);
        if (data.final) { window.location.reload(); return; }
        window.setTimeout(refresh, 3000);
      }, function () { window.setTimeout(refresh, 10000); });
  }
  window.setTimeout(refresh, 2000);
}());
