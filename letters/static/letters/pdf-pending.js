// A letter's PDF still being made (templates/letters/pdf_pending.html): ask its address again in
// the background every few seconds, and open it once it answers. The page itself never reloads
// under the reader while it waits.
(() => {
  const waiting = document.querySelector("[data-pdf-pending]");
  if (!waiting) return;
  const seconds = Math.max(1, Number(waiting.dataset.pdfPending) || 10);
  const later = () => window.setTimeout(check, seconds * 1000);

  async function check() {
    try {
      const response = await fetch(window.location.href, { method: "HEAD", cache: "no-store" });
      // 503: still being made; another 5xx: a proxy or the server between two states.
      if (response.status >= 500) return later();
      window.location.reload();
    } catch {
      later(); // offline for a moment
    }
  }

  later();
})();
