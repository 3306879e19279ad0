/* Page behaviour: sign-in, wallet confirmation, pending transactions, live criteria counts,
   complaint tags suggested as the customer writes on the rating step. */
(function () {
  "use strict";
  var W = window.MarketWallet;

  function showError(element, message) {
    if (!element) { return; }
    element.textContent = message;
    element.hidden = false;
  }

  function setupSignIn() {
    var button = document.getElementById("siwe-button");
    if (!button) { return; }
    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        await W.signIn();
        window.location.assign(button.dataset.next || "/");
      } catch (e) {
        showError(document.getElementById("siwe-error"), e.message || String(e));
        button.disabled = false;
      }
    });
  }

  function setupWalletTx() {
    var box = document.getElementById("wallet-tx");
    if (!box) { return; }
    var button = document.getElementById("wallet-send");
    button.addEventListener("click", async function () {
      button.disabled = true;
      try {
        var body = JSON.parse(box.dataset.buildBody || "{}");
        var hash = await W.sendTransaction(box.dataset.buildUrl, body);
        var params = new URLSearchParams();
        if (box.dataset.next) { params.set("next", box.dataset.next); }
        if (box.dataset.label) { params.set("label", box.dataset.label); }
        window.location.assign(box.dataset.pendingUrl.replace("HASH", hash) + "?" + params.toString());
      } catch (e) {
        showError(document.getElementById("wallet-error"), e.message || String(e));
        button.disabled = false;
      }
    });
  }

  function goPending(box, hash) {
    var params = new URLSearchParams();
    if (box.dataset.next) { params.set("next", box.dataset.next); }
    if (box.dataset.label) { params.set("label", box.dataset.label); }
    window.location.assign(box.dataset.pendingUrl.replace("HASH", hash) + "?" + params.toString());
  }

  // Token bookings: one permit signature (eth_signTypedData_v4), one transaction.
  function setupPermit() {
    var box = document.getElementById("wallet-permit");
    if (!box) { return; }
    var button = document.getElementById("permit-send");
    var step = document.getElementById("permit-step");
    button.addEventListener("click", async function () {
      button.disabled = true;
      var error = document.getElementById("wallet-error");
      error.hidden = true;
      try {
        var body = JSON.parse(box.dataset.buildBody || "{}");
        var hash = await W.bookWithPermit(box.dataset.typedUrl, box.dataset.buildUrl, body,
          function (name) {
            step.textContent = name === "sign" ? "Sign the permit in your wallet…"
              : "Now confirm the booking transaction in your wallet…";
          });
        goPending(box, hash);
      } catch (e) {
        showError(error, e.message || String(e));
        button.disabled = false;
      }
    });
  }

  // The viewer's time zone: a cookie for the server's next page and the forms' tz field now.
  function setupTimeZone() {
    var zone = "";
    try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
    if (!zone) { return; }
    if (document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
    document.querySelectorAll("[data-timezone-field]").forEach(function (field) {
      if (field.value !== zone) {
        field.value = zone;
        var form = field.form;
        var label = document.querySelector("[data-zone-name]");
        // The free times were listed in the server's guess of the zone: list them again.
        if (form && label && label.textContent !== zone && !document.cookie.match(/tz-reloaded=1/)) {
          document.cookie = "tz-reloaded=1; path=/; max-age=60; samesite=lax";
          window.location.reload();
        }
      }
    });
    document.querySelectorAll("time[data-local]").forEach(function (node) {
      var when = new Date(node.getAttribute("datetime"));
      if (isNaN(when.getTime())) { return; }
      node.textContent = when.toLocaleString(undefined, {
        weekday: "short", year: "numeric", month: "short", day: "numeric",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      });
    });
  }

  // Free-slot buttons fill the date and the start time.
  function setupSlotPicker() {
    var picker = document.getElementById("slot-picker");
    if (!picker) { return; }
    var date = document.getElementById("slot_date");
    var time = document.getElementById("slot_time");
    picker.querySelectorAll("[data-slot-date]").forEach(function (chip) {
      chip.setAttribute("aria-pressed", "false");
      chip.addEventListener("click", function () {
        date.value = chip.dataset.slotDate;
        time.value = chip.dataset.slotTime;
        picker.querySelectorAll("[data-slot-date]").forEach(function (other) {
          other.setAttribute("aria-pressed", other === chip ? "true" : "false");
        });
      });
    });
  }

  function setupPending() {
    var box = document.getElementById("tx-pending");
    if (!box) { return; }
    var line = document.getElementById("tx-status");
    var hash = box.dataset.statusUrl.split("/").pop();
    W.waitIndexed(hash, function (status) {
      line.textContent = status.message || status.status;
      line.dataset.status = status.status;
      line.classList.toggle("error", status.status === "failed");
    }, { interval: 400 }).then(function (status) {
      if (status.status === "indexed") {
        // Back through this page's URL: the server then says what was done on the next page
        // (a flash) and fills {booking}/{provider} itself.
        window.location.replace(window.location.href);
      }
    }).catch(function (e) { line.textContent = e.message; });
  }

  function withUnit(value) {
    var text = String(value || "").trim();
    if (text === "") { return undefined; }
    return /\s/.test(text) ? text : text + " ether";
  }

  function setupLiveCount() {
    var form = document.getElementById("criteria-form");
    if (!form) { return; }
    var output = document.getElementById("live-count");
    var list = document.getElementById("live-excluded");
    var timer = null;
    var sequence = 0;

    function collect() {
      var data = new FormData(form);
      var currency = form.querySelector("#currency");
      var symbol = currency && currency.selectedOptions.length ? currency.selectedOptions[0].textContent.trim() : "ETH";
      var inUnits = function (value) {
        if (symbol === "ETH") { return withUnit(value); }
        value = (value || "").trim();
        return value ? value + " " + symbol : value;
      };
      var body = {
        category: data.get("category"),
        region: data.get("region"),
        currency: currency ? Number(currency.value) : 0,
        min_stars: data.get("min_stars") || "0",
        max_price: inUnits(data.get("max_price")),
        premium_per_star: inUnits(data.get("premium_per_star")) || "0",
        required: data.getAll("required"),
        refused: data.getAll("refused"),
        verified: data.getAll("verified"),
        trusted_attestors: data.getAll("trusted_attestors").map(Number),
        min_track_record: data.get("min_track_record") || "0",
        min_reliability: data.get("min_reliability") || "0",
        score_weight: data.get("score_weight") || "0",
        price_weight: data.get("price_weight") || "0"
      };
      var account = document.body.dataset.account;
      if (account) { body.customer = account; }
      return body;
    }

    async function update() {
      var mine = ++sequence;
      try {
        var result = await W.api(form.dataset.countUrl, collect());
        if (mine !== sequence) { return; }
        output.textContent = result.eligible + " of " + result.in_category +
          " providers in this category qualify";
        output.classList.remove("error");
        list.textContent = "";
        Object.keys(result.excluded).forEach(function (key) {
          var item = document.createElement("li");
          item.textContent = result.excluded[key].count + " excluded: " + result.excluded[key].reason;
          list.appendChild(item);
        });
      } catch (e) {
        if (mine !== sequence) { return; }
        output.textContent = (e.field ? e.field.replace(/_/g, " ") + ": " : "") + e.message;
        output.classList.add("error");
        list.textContent = "";
      }
    }

    function schedule() {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(update, 200);
    }
    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    update();
  }

  function confidenceWords(confidence) {
    // The same words as the server-rendered page (bookings.confidence_words).
    var word = confidence >= 0.8 ? "very likely" : confidence >= 0.5 ? "likely" : "possibly";
    return word + " (" + Math.round(confidence * 100) + "%)";
  }

  // Progressive enhancement of the rating step: the page works without it (the "Suggest tags"
  // button posts the text and the server renders the ticked tags); with it, the tags follow the
  // text as it is typed. A box the customer ticked or unticked by hand is theirs: the script
  // leaves it alone; it unticks only boxes it ticked itself.
  function setupFeedbackTags() {
    var form = document.getElementById("rate-form");
    var area = document.getElementById("feedback_text");
    if (!form || !area || !form.dataset.interpretUrl || !form.dataset.category) { return; }
    var note = document.getElementById("tag-suggestions");
    var timer = null;
    var sequence = 0;
    var last = area.value.trim();
    var ticked = {};
    var byHand = {};

    async function update() {
      var text = area.value.trim();
      if (text === last || text === "") { return; }
      last = text;
      var mine = ++sequence;
      try {
        var result = await W.api(form.dataset.interpretUrl,
          { category: form.dataset.category, text: text });
        if (mine !== sequence) { return; }
        var found = {};
        result.tags.forEach(function (tag) { found[tag.key] = tag.confidence; });
        form.querySelectorAll("input[name=complaint_tags]").forEach(function (box) {
          if (byHand[box.value]) { return; }
          var span = form.querySelector('[data-confidence-for="' + box.value + '"]');
          if (Object.prototype.hasOwnProperty.call(found, box.value)) {
            if (!box.checked) { ticked[box.value] = true; }
            box.checked = true;
            if (span) { span.textContent = confidenceWords(found[box.value]); }
          } else {
            if (ticked[box.value]) { box.checked = false; delete ticked[box.value]; }
            if (span) { span.textContent = ""; }
          }
        });
        note.textContent = result.tags.length
          ? "We understood " + result.tags.length + " complaint(s); they are ticked below. " +
            "Keep, drop or add tags, choose the stars, then rate."
          : "No complaint understood in your words so far.";
        note.classList.remove("error");
      } catch (e) {
        if (mine !== sequence) { return; }
        note.textContent = e.message;
        note.classList.add("error");
      }
    }

    form.querySelectorAll("input[name=complaint_tags]").forEach(function (box) {
      box.addEventListener("change", function () {
        byHand[box.value] = true;
        delete ticked[box.value];
      });
    });
    area.addEventListener("input", function () {
      if (timer) { clearTimeout(timer); }
      timer = setTimeout(update, 600);
    });
  }

  // The register form offers only the attributes of the chosen category (issue 14); an
  // attribute of another category is hidden, disabled (not sent) and unticked.
  function setupCategoryAttributes() {
    var form = document.getElementById("register-form");
    var field = form && form.querySelector("[data-attributes-by-category]");
    var select = form && form.querySelector("select[name=category]");
    if (!field || !select) { return; }
    function follow() {
      field.querySelectorAll("label[data-categories]").forEach(function (label) {
        var offered = label.dataset.categories.split(" ").indexOf(select.value) >= 0;
        var box = label.querySelector("input");
        label.hidden = !offered;
        box.disabled = !offered;
        if (!offered) { box.checked = false; }
      });
    }
    select.addEventListener("change", follow);
    follow();
  }

  // A picture over the size limit is said next to its field at once (and not sent), rather
  // than after uploading it; the server checks everything again.
  function setupPictureField() {
    var input = document.getElementById("picture_file");
    if (!input) { return; }
    var message = document.createElement("p");
    message.className = "error";
    message.id = "picture-client-error";
    message.setAttribute("role", "alert");
    message.hidden = true;
    input.insertAdjacentElement("afterend", message);
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var limit = parseInt(input.dataset.maxBytes || "0", 10);
      message.hidden = true;
      if (file && limit && file.size > limit) {
        message.textContent = input.dataset.tooLarge;
        message.hidden = false;
        input.value = "";
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setupCategoryAttributes();
    setupPictureField();
    setupSignIn();
    setupWalletTx();
    setupPermit();
    setupTimeZone();
    setupSlotPicker();
    setupPending();
    setupLiveCount();
    setupFeedbackTags();
  });
})();
