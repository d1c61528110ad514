// Tracewire demo shop: every action starts a new trace, so the browser's entries, the request
// the action makes and the backend's logs of that request share one trace id shown on the page.
import * as tracewire from '@tracewire/logger';

// `?collector=` points the page at another collector (tests run one on a free port);
// `?vitals=off` turns web vitals off.
const params = new URLSearchParams(location.search);
const collector = params.get('collector') || 'http://127.0.0.1:8080';
tracewire.init({
  endpoint: collector,
  webVitals: params.get('vitals') !== 'off',
  key: 'tw_demo_key',
  propagateTo: [location.origin],
  flushIntervalMs: 1000,
  context: { app: 'demo-shop' },
});

const $ = (id) => document.getElementById(id);

function currentTraceId() {
  return tracewire.traceHeaders()['x-trace-id'];
}

function show(line) {
  const stamp = new Date().toISOString().slice(11, 23);
  $('log').textContent = `${stamp} [trace ${currentTraceId()}] ${line}\n` + $('log').textContent;
}

/** Starts a fresh trace for one user action and displays it. */
function startAction(name) {
  const id = tracewire.newTrace();
  $('trace-id').textContent = id;
  tracewire.info(`clicked ${name}`);
  return id;
}

async function loadProducts() {
  const response = await fetch('/api/products');
  if (!response.ok) throw new Error(`products failed with ${response.status}`);
  const products = await response.json();
  const list = $('products');
  list.replaceChildren();
  for (const p of products) {
    const li = document.createElement('li');
    li.textContent = `${p.name} — ${(p.price_cents / 100).toFixed(2)} €`;
    const buy = document.createElement('button');
    buy.textContent = 'Buy';
    buy.addEventListener('click', () => buyProduct(p));
    li.append(buy);
    list.append(li);
  }
  show(`loaded ${products.length} products`);
}

async function buyProduct(product) {
  startAction('Buy');
  const response = await fetch('/api/orders', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ product_id: product.id, quantity: 1 }),
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(`order failed with ${response.status}`);
  tracewire.info('order placed', { order_id: body.order_id, product: product.name });
  show(`order ${body.order_id}: ${product.name}`);
}

$('checkout-fail').addEventListener('click', async () => {
  startAction('Checkout (fails)');
  const response = await fetch('/api/checkout/fail', { method: 'POST' });
  show(`checkout answered ${response.status}`);
  if (!response.ok) {
    // Thrown from the handler on purpose: the logger captures it as an unhandled rejection.
    throw new Error(`checkout failed: payment declined (HTTP ${response.status})`);
  }
});

$('throw').addEventListener('click', () => {
  startAction('Throw in handler');
  show('throwing a TypeError');
  const cart = undefined;
  return cart.items.length; // TypeError, caught by window.onerror
});

$('reject').addEventListener('click', () => {
  startAction('Unhandled rejection');
  show('rejecting a promise nobody awaits');
  Promise.reject(new Error('coupon service unavailable'));
});

$('slow').addEventListener('click', async () => {
  startAction('Slow request');
  show('waiting for /api/slow?ms=1500');
  const response = await fetch('/api/slow?ms=1500');
  show(`slow request answered ${response.status}`);
});

$('trace-id').textContent = currentTraceId();
loadProducts().catch((e) => { tracewire.captureException(e); show(String(e)); });
