// The photoshoot page refreshes itself while the photoshoot works: status, then photos as they come.
(function () {
  "use strict";
  var card = document.getElementById("photoshoot-progress");
  if (!card || card.dataset.final === "1") return;
  var gallery = document.getElementById("gallery");
  // The status lists the first page's photos: add them live on that page only.
  var page = new URLSearchParams(window.location.search).get("page");
  var firstPage = !page || page === "1";

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

  // The first page as the server orders it (scene by scene), not as the photos arrived:
  // a photo of an earlier scene goes before those of later ones, as it will after the reload.
  function showPhotos(photos) {
    var items = {};
    Array.prototype.forEach.call(gallery.children, function (li) { items[li.dataset.code] = li; });
    photos.forEach(function (photo, at) {
      var li = items[photo.code] || photoItem(photo);
      delete items[photo.code];
      if (gallery.children[at] !== li) gallery.insertBefore(li, gallery.children[at] || null);
      li.querySelector("img").alt = "Photo " + (at + 1);
    });
    // Pushed off the first page by photos of earlier scenes.
    Object.keys(items).forEach(function (code) { gallery.removeChild(items[code]); });
  }

  function refresh() {
    fetch(card.dataset.statusUrl, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { window.setTimeout(refresh, 10000); return; }
        document.getElementById("photoshoot-status").textContent = data.label;
        // The server's own sentence: the page reads the same with or without this script.
        document.getElementById("photoshoot-detail").textContent = data.detail;
        if (firstPage) showPhotos(data.photos);
        if (data.final) { window.location.reload(); return; }
        window.setTimeout(refresh, 3000);
      }, function () { window.setTimeout(refresh, 10000); });
  }
  window.setTimeout(refresh, 2000);
}());
