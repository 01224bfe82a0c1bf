// websession demo: deadlines counting down, and the cart's two concurrent requests.
// Served by the demo itself (the Content-Security-Policy allows no inline script).
"use strict";

function formatLeft(seconds) {
  if (seconds <= 0) return "expired";
  const d = Math.floor(seconds / 86400), h = Math.floor(seconds / 3600) % 24;
  const m = Math.floor(seconds / 60) % 60, s = seconds % 60;
  const parts = [];
  if (d) parts.push(d + " d");
  if (d || h) parts.push(h + " h");
  if (d || h || m) parts.push(m + " min");
  parts.push(s + " s");
  return parts.join(" ");
}

function startCountdowns() {
  const started = Date.now();
  const clocks = Array.from(document.querySelectorAll(".countdown[data-left]"));
  if (!clocks.length) return;
  const tick = () => {
    const elapsed = Math.floor((Date.now() - started) / 1000);
    for (const el of clocks) el.textContent = formatLeft(Number(el.dataset.left) - elapsed);
  };
  tick();
  setInterval(tick, 1000);
}

function startCart() {
  const both = document.getElementById("both");
  if (!both) return;
  both.hidden = false;
  document.getElementById("both-note").hidden = false;
  both.addEventListener("click", async () => {
    both.disabled = true;
    const send = (item) => {
      const body = new URLSearchParams({ _csrf: both.dataset.csrf, item, slow: "1" });
      return fetch("/cart/add", { method: "POST", body, credentials: "same-origin" });
    };
    await Promise.all(both.dataset.items.split(",").map(send));
    window.location.reload();
  });
}

document.addEventListener("DOMContentLoaded", () => {
  startCountdowns();
  startCart();
});
