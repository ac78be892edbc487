/**
 * The live sale console's page and script, served as they are (no build step, no CDN). The page holds no data: the
 * script asks for an admin token, keeps it in sessionStorage and polls `/console/sales` with it. The script is a
 * file of its own and builds the DOM with textContent, so helmet's Content-Security-Policy (`script-src 'self'`, no
 * inline handlers) stays as it is. Written as plain ES2020 inside String.raw: no backticks and no `${` in it.
 */

export const CONSOLE_PAGE = String.raw`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Flash Sale Mesh: live sale console</title>
<style>
  :root { --bg: #0f1419; --card: #182029; --line: #2a3541; --text: #e6edf3; --dim: #8b98a5; --mesh: #58a6ff;
          --gw: #d2a8ff; --ok: #3fb950; --bad: #f85149; --warn: #d29922; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.4 "Liberation Sans", "DejaVu Sans", Arial, sans-serif; background: var(--bg);
         color: var(--text); }
  header.top { display: flex; align-items: center; gap: 16px; padding: 12px 24px; border-bottom: 1px solid var(--line); }
  header.top h1 { font-size: 18px; margin: 0; flex: 1; }
  #status { color: var(--dim); font-size: 13px; }
  #status[data-state="live"]::before { content: "\25CF  "; color: var(--ok); }
  #status[data-state="error"] { color: var(--warn); }
  button { background: #238636; color: #fff; border: 0; border-radius: 6px; padding: 8px 14px; font: inherit;
           cursor: pointer; }
  button.quiet { background: transparent; border: 1px solid var(--line); color: var(--dim); }
  main, #login { padding: 20px 24px; }
  #login { max-width: 640px; }
  #login label { display: block; margin-bottom: 6px; font-weight: bold; }
  #token { width: 100%; height: 96px; background: var(--card); color: var(--text); border: 1px solid var(--line);
           border-radius: 6px; padding: 8px; font: 12px/1.3 "DejaVu Sans Mono", monospace; }
  #login-error { background: #3d1d20; border: 1px solid var(--bad); border-radius: 6px; padding: 10px 12px; }
  .hint, .legend { color: var(--dim); font-size: 13px; }
  .legend b.mesh { color: var(--mesh); } .legend b.gw { color: var(--gw); }
  #sales { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 16px; }
  article.sale { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 14px 16px; }
  article.sale header { display: flex; align-items: baseline; gap: 10px; }
  article.sale h2 { font-size: 16px; margin: 0; flex: 1; }
  .badge { font-size: 11px; font-weight: bold; padding: 2px 8px; border-radius: 10px; background: var(--line); }
  .badge[data-value="ACTIVE"] { background: #1f6f3b; } .badge[data-value="SOLD_OUT"] { background: #8e1519; }
  .meta { color: var(--dim); font-size: 12px; margin: 2px 0 10px; }
  .bar { height: 8px; background: var(--line); border-radius: 4px; overflow: hidden; margin-bottom: 12px; }
  .bar div { height: 100%; width: 0; background: linear-gradient(90deg, var(--ok), var(--warn)); transition: width .4s; }
  .figures { display: grid; grid-template-columns: 1fr 1fr; gap: 14px; }
  .figures h3 { font-size: 11px; text-transform: uppercase; letter-spacing: .08em; margin: 0 0 6px; }
  .mesh h3 { color: var(--mesh); } .replica h3 { color: var(--gw); }
  dl { display: grid; grid-template-columns: auto 1fr; gap: 4px 12px; margin: 0; }
  dt { color: var(--dim); } dd { margin: 0; } dd b { font-size: 16px; } dd small { color: var(--dim); }
  ul.reasons { list-style: none; margin: 2px 0 0; padding: 0; font-size: 12px; color: var(--dim); }
  canvas { width: 100%; height: 40px; margin-top: 8px; display: block; }
  .warn { color: var(--warn); font-size: 12px; margin: 8px 0 0; }
  .caption { color: var(--dim); font-size: 11px; margin: 2px 0 0; }
  .caption .acc { color: var(--ok); } .caption .ref { color: var(--bad); }
</style>
</head>
<body>
<header class="top">
  <h1>Flash Sale Mesh: live sale console</h1>
  <span id="status" role="status">starting</span>
  <button id="sign-out" class="quiet" type="button" hidden>Sign out</button>
</header>
<section id="login" hidden>
  <form id="login-form">
    <label for="token">Admin token (JWT)</label>
    <textarea id="token" name="token" autocomplete="off" spellcheck="false" required
      placeholder="eyJhbGciOi..."></textarea>
    <p><button type="submit">Open the console</button></p>
  </form>
  <p id="login-error" role="alert" hidden></p>
  <p class="hint">The console needs a token with the admin role. <code>npm start</code> prints one;
    <code>npm run token -- &lt;name&gt; --admin</code> makes another. It is kept in this tab only (sessionStorage).</p>
</section>
<main id="board" hidden>
  <p class="legend" id="legend"></p>
  <div id="sales"></div>
  <p id="empty" class="hint" hidden>No sale is open, and none ended in the last few minutes.</p>
</main>
<script src="/console/console.js"></script>
</body>
</html>
`;

export const CONSOLE_SCRIPT = String.raw`'use strict';
(function () {
  var KEY = 'flashsale.console.token';
  var POLL_MS = 500;
  var generation = 0;
  var timer = null;
  var byId = function (id) { return document.getElementById(id); };

  var CARD =
    '<header><h2 data-field="title"></h2><span class="badge" data-field="status"></span></header>' +
    '<p class="meta"><span data-field="promotionId"></span> &middot; <span data-field="window"></span></p>' +
    '<div class="bar"><div data-field="soldBar"></div></div>' +
    '<div class="figures">' +
    '<section class="mesh"><h3>Mesh</h3><dl>' +
    '<dt>Stock left</dt><dd><b data-field="availableStock"></b> <small>of <span data-field="stock"></span></small></dd>' +
    '<dt>Orders written</dt><dd><b data-field="orders"></b> <small><span data-field="orderUnits"></span> units</small></dd>' +
    '<dt>Paid</dt><dd><b data-field="paid"></b> <small><span data-field="awaiting"></span> awaiting payment</small></dd>' +
    '<dt>Sold out at</dt><dd><b data-field="soldOutAt"></b> <small data-field="soldOutSource"></small></dd>' +
    '</dl></section>' +
    '<section class="replica"><h3>This gateway</h3><dl>' +
    '<dt>Accepted /s</dt><dd><b data-field="acceptedPerSecond"></b> <small><span data-field="accepted"></span> in all</small></dd>' +
    '<dt>Refused /s</dt><dd><b data-field="refusedPerSecond"></b><ul class="reasons" data-field="reasons"></ul></dd>' +
    '<dt>p50 / p99</dt><dd><b data-field="p50"></b> / <b data-field="p99"></b></dd>' +
    '</dl><canvas data-field="series" width="480" height="40" aria-label="accepted and refused per second, last minute"></canvas>' +
    '<p class="caption">last minute, per second: <span class="acc">accepted</span> and <span class="ref">refused</span></p>' +
    '</section></div>' +
    '<p class="warn" data-field="ordersError" hidden></p>';

  function setStatus(text, state) {
    var status = byId('status');
    status.textContent = text;
    status.dataset.state = state;
  }

  function stop() {
    generation += 1;
    if (timer) clearTimeout(timer);
    timer = null;
  }

  function showLogin(message) {
    stop();
    byId('board').hidden = true;
    byId('sign-out').hidden = true;
    byId('login').hidden = false;
    var error = byId('login-error');
    error.textContent = message || '';
    error.hidden = !message;
    setStatus('signed out', 'idle');
    byId('token').focus();
  }

  function refusal(status, body) {
    var code = body && body.code ? body.code : 'HTTP ' + status;
    if (status === 403) {
      return 'Refused: this token is valid but has no admin role (403 ' + code + '). The console needs an admin token.';
    }
    var detail = body && body.detail ? ': ' + body.detail : '';
    return 'Refused: the gateway did not accept this token (401 ' + code + detail + '). Paste a valid admin token.';
  }

  function start(token) {
    stop();
    sessionStorage.setItem(KEY, token);
    setStatus('checking the token', 'idle');
    poll(generation);
  }

  async function poll(mine) {
    var token = sessionStorage.getItem(KEY);
    if (!token) return showLogin();
    var res;
    var body = {};
    try {
      res = await fetch('/console/sales', { headers: { authorization: 'Bearer ' + token }, cache: 'no-store' });
      body = await res.json().catch(function () { return {}; });
    } catch (error) {
      if (mine !== generation) return;
      setStatus('no answer from the gateway; trying again', 'error');
      return schedule(mine);
    }
    if (mine !== generation) return;
    if (res.status === 401 || res.status === 403) {
      sessionStorage.removeItem(KEY);
      return showLogin(refusal(res.status, body));
    }
    if (!res.ok) {
      setStatus('the gateway answered ' + res.status + ' ' + (body.code || '') + '; trying again', 'error');
      return schedule(mine);
    }
    byId('login').hidden = true;
    byId('board').hidden = false;
    byId('sign-out').hidden = false;
    render(body);
    setStatus('live, ' + clock(body.generatedAt) + ', replica ' + body.replica, 'live');
    schedule(mine);
  }

  function schedule(mine) {
    timer = setTimeout(function () { poll(mine); }, POLL_MS);
  }

  function clock(iso) {
    if (!iso) return '\u2014';
    var at = new Date(iso);
    var pad = function (n, w) { return String(n).padStart(w || 2, '0'); };
    return pad(at.getHours()) + ':' + pad(at.getMinutes()) + ':' + pad(at.getSeconds()) + '.' + pad(at.getMilliseconds(), 3);
  }

  function ms(value) {
    if (value === null || value === undefined) return '\u2014';
    return (value < 10 ? value.toFixed(2) : value < 100 ? value.toFixed(1) : value.toFixed(0)) + ' ms';
  }

  function set(card, field, text, value) {
    var el = card.querySelector('[data-field="' + field + '"]');
    if (el.textContent !== text) el.textContent = text;
    el.dataset.value = value === undefined ? text : String(value);
  }

  function count(n) { return n === null || n === undefined ? '\u2014' : n.toLocaleString('en'); }

  function render(snapshot) {
    var w = snapshot.windows;
    var legend = byId('legend');
    var mesh = document.createElement('b');
    mesh.className = 'mesh';
    mesh.textContent = 'Mesh';
    var gw = document.createElement('b');
    gw.className = 'gw';
    gw.textContent = 'This gateway';
    legend.replaceChildren(mesh, ': the whole mesh (stock from inventory, orders and payments from the order rows). ', gw,
      ': only replica ' + snapshot.replica + ' (rates over ' + w.rateSeconds + ' s, latency over ' + w.latencySeconds +
      ' s). Ended sales stay ' + Math.round(w.keepEndedSeconds / 60) + ' min.');
    var list = byId('sales');
    var seen = {};
    snapshot.sales.forEach(function (sale, index) {
      seen[sale.promotionId] = true;
      var card = list.querySelector('article[data-promotion="' + sale.promotionId + '"]');
      if (!card) {
        card = document.createElement('article');
        card.className = 'sale';
        card.dataset.promotion = sale.promotionId;
        card.innerHTML = CARD;
      }
      if (list.children[index] !== card) list.insertBefore(card, list.children[index] || null);
      fill(card, sale);
    });
    Array.prototype.slice.call(list.children).forEach(function (card) {
      if (!seen[card.dataset.promotion]) card.remove();
    });
    byId('empty').hidden = snapshot.sales.length > 0;
  }

  function fill(card, sale) {
    set(card, 'title', sale.title);
    set(card, 'status', sale.status.replace('_', ' '), sale.status);
    set(card, 'promotionId', sale.promotionId);
    set(card, 'window', clock(sale.startsAt) + ' \u2192 ' + clock(sale.endsAt));
    set(card, 'availableStock', count(sale.availableStock), sale.availableStock);
    set(card, 'stock', count(sale.stock), sale.stock);
    var sold = sale.stock > 0 ? (sale.stock - sale.availableStock) / sale.stock : 0;
    card.querySelector('[data-field="soldBar"]').style.width = Math.round(sold * 100) + '%';
    var orders = sale.orders;
    set(card, 'orders', orders ? count(orders.rows) : '\u2014', orders ? orders.rows : '');
    set(card, 'orderUnits', orders ? count(orders.units) : '\u2014', orders ? orders.units : '');
    set(card, 'paid', orders ? count(orders.paid) : '\u2014', orders ? orders.paid : '');
    set(card, 'awaiting', orders ? count(orders.byStatus.AWAITING_PAYMENT.orders) : '\u2014');
    set(card, 'soldOutAt', sale.soldOut ? clock(sale.soldOut.at) : 'not sold out', sale.soldOut ? sale.soldOut.at : '');
    set(card, 'soldOutSource', sale.soldOut ? (sale.soldOut.source === 'signal' ? 'inventory signal' : 'last order') : '');
    var warn = card.querySelector('[data-field="ordersError"]');
    warn.hidden = !sale.ordersError;
    warn.textContent = sale.ordersError ? 'The order service did not answer (' + sale.ordersError + '): orders unknown.' : '';
    var g = sale.gateway || { acceptedPerSecond: 0, refusedPerSecond: {}, p50Ms: null, p99Ms: null, totals: {}, series: null };
    set(card, 'acceptedPerSecond', g.acceptedPerSecond.toFixed(1), g.acceptedPerSecond);
    set(card, 'accepted', count(g.totals.ACCEPTED || 0), g.totals.ACCEPTED || 0);
    var reasons = Object.keys(g.refusedPerSecond).sort();
    var refused = reasons.reduce(function (sum, reason) { return sum + g.refusedPerSecond[reason]; }, 0);
    set(card, 'refusedPerSecond', refused.toFixed(1), refused);
    var ul = card.querySelector('[data-field="reasons"]');
    ul.replaceChildren.apply(ul, reasons.map(function (reason) {
      var li = document.createElement('li');
      li.dataset.reason = reason;
      li.textContent = reason + ' ' + g.refusedPerSecond[reason].toFixed(1) + '/s';
      return li;
    }));
    set(card, 'p50', ms(g.p50Ms), g.p50Ms === null ? '' : g.p50Ms);
    set(card, 'p99', ms(g.p99Ms), g.p99Ms === null ? '' : g.p99Ms);
    draw(card.querySelector('canvas'), g.series);
  }

  function draw(canvas, series) {
    var context = canvas.getContext('2d');
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (!series) return;
    var n = series.accepted.length;
    var top = Math.max.apply(null, series.accepted.concat(series.refused, [1]));
    var width = canvas.width / n;
    for (var i = 0; i < n; i += 1) {
      var a = (series.accepted[i] / top) * canvas.height;
      var r = (series.refused[i] / top) * canvas.height;
      context.fillStyle = '#3fb950';
      context.fillRect(i * width, canvas.height - a, width * 0.45, a);
      context.fillStyle = '#f85149';
      context.fillRect(i * width + width * 0.5, canvas.height - r, width * 0.45, r);
    }
  }

  byId('login-form').addEventListener('submit', function (event) {
    event.preventDefault();
    var token = byId('token').value.trim().replace(/^Bearer\s+/i, '');
    if (token) start(token);
  });
  byId('sign-out').addEventListener('click', function () {
    sessionStorage.removeItem(KEY);
    showLogin('Signed out.');
  });
  var saved = sessionStorage.getItem(KEY);
  if (saved) start(saved);
  else showLogin();
})();
`;
