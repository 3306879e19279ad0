/* An EIP-1193 wallet helper: the server builds unsigned transactions, the wallet sends them.
 *
 * MarketWallet.sendTransaction(buildUrl, body) asks the server for the unsigned transaction
 * (POST buildUrl with the body and the wallet's address as `from`), makes sure the wallet is on
 * the transaction's chain, sends it with eth_sendTransaction and returns the hash.
 * MarketWallet.waitIndexed(hash, onStatus) polls /api/v1/tx/<hash> until the indexer has it.
 * MarketWallet.signIn() runs Sign-In with Ethereum (EIP-4361) through personal_sign.
 * MarketWallet.bookWithPermit(typedUrl, buildUrl, body) books a token listing with one
 * signature and one transaction: it fetches the EIP-2612 permit (typed data) for the wallet's
 * account, signs it with eth_signTypedData_v4, asks the page for bookWithPermit with that
 * signature, and sends it; it returns the hash.
 * No build step: plain browser JavaScript.
 */
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  async function api(url, body, method) {
    var response = await fetch(url, {
      method: method || "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRF-Token": csrfToken()
      },
      body: body === undefined ? undefined : JSON.stringify(body)
    });
    var data = null;
    try { data = await response.json(); } catch (e) { data = null; }
    if (!response.ok) {
      var error = new Error((data && data.message) || ("HTTP " + response.status));
      error.field = data && data.field;
      error.body = data;
      throw error;
    }
    return data;
  }

  function provider() {
    if (!window.ethereum || typeof window.ethereum.request !== "function") {
      throw new Error("No browser wallet found: install one, or use a dev account on a local chain.");
    }
    return window.ethereum;
  }

  async function account() {
    var accounts = await provider().request({ method: "eth_requestAccounts" });
    if (!accounts || !accounts.length) { throw new Error("The wallet shared no account."); }
    return String(accounts[0]).toLowerCase();
  }

  async function ensureChain(chainIdHex) {
    var current = await provider().request({ method: "eth_chainId" });
    if (parseInt(current, 16) === parseInt(chainIdHex, 16)) { return; }
    await provider().request({ method: "wallet_switchEthereumChain", params: [{ chainId: chainIdHex }] });
  }

  function utf8ToHex(text) {
    var bytes = new TextEncoder().encode(text);
    var out = "0x";
    for (var i = 0; i < bytes.length; i++) { out += bytes[i].toString(16).padStart(2, "0"); }
    return out;
  }

  async function sendTransaction(buildUrl, body) {
    var from = await account();
    var built = await api(buildUrl, Object.assign({}, body || {}, { from: from }));
    await ensureChain(built.tx.chainId);
    if (String(built.tx.from).toLowerCase() !== from) {
      throw new Error("The wallet's account changed; reload the page.");
    }
    return await provider().request({ method: "eth_sendTransaction", params: [built.tx] });
  }

  function sleep(ms) { return new Promise(function (resolve) { setTimeout(resolve, ms); }); }

  async function waitIndexed(hash, onStatus, options) {
    var interval = (options && options.interval) || 500;
    var timeout = (options && options.timeout) || 180000;
    var started = Date.now();
    while (Date.now() - started < timeout) {
      var status;
      try {
        status = await api("/api/v1/tx/" + hash, undefined, "GET");
      } catch (e) {
        status = { status: "unknown", message: e.message };
      }
      if (onStatus) { onStatus(status); }
      if (status.status === "indexed" || status.status === "failed") { return status; }
      await sleep(interval);
    }
    throw new Error("Still not recorded after " + Math.round(timeout / 1000) + " s; check again later.");
  }

  async function signTypedData(from, typedData) {
    return await provider().request({
      method: "eth_signTypedData_v4", params: [from, JSON.stringify(typedData)]
    });
  }

  async function bookWithPermit(typedUrl, buildUrl, body, onStep) {
    var from = await account();
    var permit = await api(typedUrl, Object.assign({}, body || {}, { from: from }));
    await ensureChain("0x" + Number(permit.typed_data.domain.chainId).toString(16));
    if (onStep) { onStep("sign"); }
    var signature = await signTypedData(from, permit.typed_data);
    if (onStep) { onStep("send"); }
    var built = await api(buildUrl, Object.assign({}, body || {}, {
      from: from, deadline: permit.deadline, signature: signature
    }));
    if (String(built.tx.from).toLowerCase() !== from) {
      throw new Error("The wallet's account changed; reload the page.");
    }
    return await provider().request({ method: "eth_sendTransaction", params: [built.tx] });
  }

  async function signIn() {
    var from = await account();
    var challenge = await api("/auth/nonce", { address: from });
    var signature = await provider().request({
      method: "personal_sign", params: [utf8ToHex(challenge.message), from]
    });
    return await api("/auth/verify", { message: challenge.message, signature: signature });
  }

  window.MarketWallet = {
    api: api,
    csrfToken: csrfToken,
    sendTransaction: sendTransaction,
    signTypedData: signTypedData,
    bookWithPermit: bookWithPermit,
    waitIndexed: waitIndexed,
    signIn: signIn
  };
})();
