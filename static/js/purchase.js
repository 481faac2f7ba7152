// Back from Stripe Checkout: while the payment is being confirmed (Stripe tells the server
// directly, never through this page), ask every few seconds and show the server's own words:
// the credits added and the new balance, or a failed payment.
(function () {
  "use strict";
  var card = document.getElementById("purchase-state");
  if (!card || card.dataset.final === "1") return;
  var tries = 0;

  function ask() {
    tries += 1;
    fetch(card.dataset.statusUrl, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (data && data.html !== undefined) card.innerHTML = data.html;
        if (data && data.final) return;
        if (tries < 150) window.setTimeout(ask, tries < 10 ? 2000 : 6000);
      })
      .catch(function () { if (tries < 150) window.setTimeout(ask, 6000); });
  }

  window.setTimeout(ask, 2000);
})();
