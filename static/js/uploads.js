// Selfie uploads: each file goes straight to storage with its own progress bar, then the
// portal verifies it. The same code serves S3 presigned POSTs and the local signed endpoint.
(function () {
  "use strict";
  var root = document.getElementById("uploader");
  if (!root) return;
  var config = JSON.parse(document.getElementById("uploads-config").textContent);
  var grid = document.getElementById("photo-grid");
  var input = document.getElementById("file-input");
  var dropzone = document.getElementById("dropzone");
  var csrf = (document.querySelector("[name=csrfmiddlewaretoken]") || {}).value || "";
  var PARALLEL = 3;
  var queue = [];
  var running = 0;

  function sameOrigin(url) {
    return new URL(url, window.location.href).origin === window.location.origin;
  }

  function postJSON(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
      if (response.redirected || !json) {
        // Sent to the login page: the session ended while the page was open.
        throw new Error("Your session has ended. Please log in again, then add this photo.");
      }
      return response.json().then(function (data) {
        if (!response.ok) {
          var error = new Error(data.error || "Something went wrong. Please try again.");
          if (response.status === 429) error.retryAfter = Number(response.headers.get("Retry-After"));
          throw error;
        }
        return data;
      });
    }, function () { throw new Error("The connection failed. Please try again."); });
  }

  // The bytes, with progress: XMLHttpRequest is the one API that reports upload progress.
  function send(target, file, onProgress) {
    return new Promise(function (resolve, reject) {
      var form = new FormData();
      Object.keys(target.fields).forEach(function (name) { form.append(name, target.fields[name]); });
      form.append("file", file);
      var xhr = new XMLHttpRequest();
      xhr.open("POST", target.url);
      if (sameOrigin(target.url)) xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else reject(new Error("The upload was refused. Please try this photo again."));
      };
      xhr.onerror = function () { reject(new Error("The upload failed. Please try this photo again.")); };
      xhr.send(form);
    });
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function tile(file) {
    var li = element("li", "photo uploading");
    li.appendChild(element("p", "name", file.name));
    var bar = element("progress");
    bar.max = 100;
    bar.value = 0;
    bar.setAttribute("aria-label", "Uploading " + file.name);
    li.appendChild(bar);
    li.appendChild(element("p", "status muted", "Waiting…"));
    grid.appendChild(li);
    return li;
  }

  function removeButton(url, name) {
    var button = element("button", "link remove-button", "Remove");
    button.type = "button";
    button.dataset.url = url;
    button.setAttribute("aria-label", "Remove " + name);
    return button;
  }

  function showDone(li, photo) {
    li.className = "photo done";
    li.dataset.code = photo.code;
    li.textContent = "";
    var img = element("img");
    img.src = photo.thumbnail_url;
    img.alt = photo.name;
    li.appendChild(img);
    photo.hints.forEach(function (hint) { li.appendChild(element("p", "hint", hint)); });
    li.appendChild(removeButton(photo.delete_url, photo.name));
    updateCount();
  }

  function showRejected(li, name, message) {
    li.className = "photo rejected";
    li.textContent = "";
    li.appendChild(element("p", "name", name));
    var error = element("p", "error", message);
    error.setAttribute("role", "alert");
    li.appendChild(error);
    var dismiss = element("button", "link", "Dismiss");
    dismiss.type = "button";
    dismiss.addEventListener("click", function () { li.remove(); });
    li.appendChild(dismiss);
  }

  // The server keeps an upload it was too busy to check and says when to ask again: a short
  // wait is waited out here; a long one (a limit for the minute) ends in its sentence.
  var BUSY_RETRIES = 6;
  var BUSY_WAIT_MAX = 10;

  function finish(url, status, retries) {
    return postJSON(url).catch(function (error) {
      var wait = error.retryAfter;
      if (!(wait > 0 && wait <= BUSY_WAIT_MAX)) throw error;
      if (!retries) throw new Error("We could not check this photo just now. Please add it again in a few minutes.");
      status.textContent = error.message;
      return new Promise(function (resolve) { setTimeout(resolve, wait * 1000); })
        .then(function () { return finish(url, status, retries - 1); });
    });
  }

  function upload(file, li) {
    var status = li.querySelector(".status");
    var bar = li.querySelector("progress");
    if (file.size > config.maxBytes) {
      showRejected(li, file.name, "This file is over " + Math.floor(config.maxBytes / 1048576) + " MB. Please upload a smaller photo.");
      return Promise.resolve();
    }
    status.textContent = "Uploading…";
    return postJSON(config.startUrl, {filename: file.name, content_type: file.type, size: file.size})
      .then(function (target) {
        return send(target, file, function (fraction) { bar.value = Math.round(fraction * 100); })
          .catch(function (error) {
            postJSON(target.cancel_url).catch(function () {});  // give its place back
            throw error;
          })
          .then(function () {
            bar.value = 100;
            status.textContent = "Checking…";
            return finish(target.finish_url, status, BUSY_RETRIES).catch(function (error) {
              // Not checked (too many in a minute, say): give its place back to add it later.
              postJSON(target.cancel_url).catch(function () {});
              throw error;
            });
          });
      })
      .then(function (data) { showDone(li, data.photo); },
            function (error) { showRejected(li, file.name, error.message); });
  }

  function pump() {
    while (running < PARALLEL && queue.length) {
      var job = queue.shift();
      running += 1;
      var next = function () { running -= 1; pump(); };
      upload(job.file, job.li).then(next, next);
    }
  }

  function add(files) {
    Array.prototype.forEach.call(files, function (file) {
      queue.push({file: file, li: tile(file)});
    });
    pump();
  }

  function updateCount() {
    var count = grid.querySelectorAll(".photo.done, .photo:not(.uploading):not(.rejected)").length;
    document.getElementById("photo-count").textContent = count;
    var note = document.getElementById("count-note");
    if (count < config.min) note.textContent = "— add at least " + (config.min - count) + " more";
    else if (count < 10) note.textContent = "— enough to start; about 15 gives better results";
    else note.textContent = "— a good set";
    // The way on to a pack shows once the set has enough photos; before, how many to add.
    var missing = Math.max(config.min - count, 0);
    document.getElementById("start-missing").textContent = missing;
    document.getElementById("start-missing-s").textContent = missing === 1 ? "" : "s";
    document.getElementById("start-short").hidden = missing === 0;
    document.getElementById("start-ready").hidden = missing > 0;
  }

  input.addEventListener("change", function () { add(input.files); input.value = ""; });
  ["dragenter", "dragover"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) { event.preventDefault(); dropzone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropzone.addEventListener(name, function () { dropzone.classList.remove("over"); });
  });
  dropzone.addEventListener("drop", function (event) { event.preventDefault(); add(event.dataTransfer.files); });

  // Remove: the server-rendered forms and the buttons added here both end up in this handler.
  grid.addEventListener("submit", function (event) {
    event.preventDefault();
    removePhoto(event.target.closest(".photo"), event.target.action);
  });
  grid.addEventListener("click", function (event) {
    if (event.target.classList.contains("remove-button")) {
      removePhoto(event.target.closest(".photo"), event.target.dataset.url);
    }
  });

  function removePhoto(li, url) {
    if (li.classList.contains("removing")) return;  // a double click removes once
    li.classList.add("removing");
    li.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    postJSON(url).then(function () { li.remove(); updateCount(); input.focus(); },
                       function (error) {
                         li.classList.remove("removing");
                         li.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
                         window.alert(error.message);
                       });
  }

  // A file dropped beside the drop zone must not open in the tab (and stop the uploads).
  ["dragover", "drop"].forEach(function (name) {
    document.addEventListener(name, function (event) { event.preventDefault(); });
  });
  window.addEventListener("beforeunload", function (event) {
    if (running > 0) event.preventDefault();
  });

  updateCount();
}());
