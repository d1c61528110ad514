// @tracewire/logger — the page load's web vitals, by the definitions of Google's web-vitals
// library, reported once, when the page is first hidden: TTFB (navigation responseStart), FCP
// (first contentful paint), LCP (the last largest-contentful-paint entry; browsers stop
// emitting them at the first input), CLS (the largest session window of layout shifts without
// recent input: gaps under 1 s, windows under 5 s) and INP (the longest event duration of an
// interaction, skipping one interaction in 50 from the worst). Times count from activation
// (prerendered pages); a page loaded in the background reports no paints. A page restored from
// the back/forward cache is not measured again. Nothing here throws: a browser without an
// entry type reports nothing for it.

/**
 * Starts measuring; returns the function to call when the page hides, which hands each vital
 * to `report(name, value, navigationType)` the first time it runs.
 */
export function watchVitals(report) {
  const perf = performance;
  const nav = perf.getEntriesByType('navigation')[0] || {};
  const activation = nav.activationStart || 0;
  const since = (t) => Math.max(t - activation, 0);
  const background = document.visibilityState === 'hidden';
  const observe = (type, each, opts) => {
    try {
      new PerformanceObserver((list) => list.getEntries().forEach(each))
        .observe({ type, buffered: true, ...opts });
    } catch (_) { /* unsupported entry type */ }
  };
  let lcp = -1;
  observe('largest-contentful-paint', (e) => { lcp = since(e.startTime); });
  let cls = 0; let session = 0; let first = 0; let last = 0;
  observe('layout-shift', (e) => {
    if (e.hadRecentInput) return;
    if (session && e.startTime - last < 1000 && e.startTime - first < 5000) session += e.value;
    else { session = e.value; first = e.startTime; }
    last = e.startTime;
    cls = Math.max(cls, session);
  });
  const interactions = new Map();
  const onEvent = (e) => {
    const id = e.interactionId;
    if (id) interactions.set(id, Math.max(interactions.get(id) || 0, e.duration));
  };
  observe('event', onEvent, { durationThreshold: 40 });
  // Event entries under 40 ms are not reported; the first input always is.
  observe('first-input', onEvent);

  let done = false;
  return function hidden() {
    if (done) return;
    done = true;
    const type = activation > 0 ? 'prerender' : (nav.type || 'navigate').replace('_', '-');
    const send = (name, value) => { if (value >= 0) report(name, Math.round(value * 1e4) / 1e4, type); };
    send('TTFB', nav.responseStart > 0 ? since(nav.responseStart) : -1);
    if (!background) {
      const fcp = perf.getEntriesByName('first-contentful-paint')[0];
      if (fcp) send('FCP', since(fcp.startTime));
      send('LCP', lcp);
    }
    send('CLS', cls);
    const worst = [...interactions.values()].sort((a, b) => b - a);
    if (worst.length) send('INP', worst[Math.min(Math.floor(worst.length / 50), worst.length - 1)]);
  };
}
