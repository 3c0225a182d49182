/*
 * stepper.js - the script of the page `coroscope html` writes: stepping
 * through a run.
 *
 * It decides nothing about coroutines. The page's data (described at the
 * top of viz/html_data.c) carries, with each event, the rows of the
 * viewer's model that the event changed; the frame after event i is the
 * rows of the nearest checkpoint with the later rows applied. Checkpoints
 * are built as the learner goes, spaced so that they never hold more than
 * about a million rows, so any frame of a 100,000-event run is a copy and a
 * few hundred row updates away. The log is a virtual list: only the lines
 * in view exist in the document. Every name is shown with textContent.
 */
'use strict';
(() => {
  const D = JSON.parse(document.getElementById('coroscope-data').textContent);
  const S = D.strs;
  const EV = D.ev;
  const N = EV.length;
  const NC = D.co.length;
  const [SEQ, , KIND, THREAD, CO, FROM, TO, BY, OBJ, WHY, FILE, LINE, TEXT, ROWS, NOTES, EDGE] =
    Array.from({ length: 16 }, (_, i) => i);
  const [C_ID, C_NAME, C_FN, C_OBJ, , C_NODE] = [0, 1, 2, 3, 4, 5];
  const ST = Object.fromEntries(D.states.map((n, i) => [n, i]));
  const ORDER = [ST.running, ST.ready, ST.suspended, ST.created, ST.dead];
  const str = (i) => (i >= 0 ? S[i] : null);
  const kind = (e) => D.kinds[e[KIND]];
  const $ = (id) => document.getElementById(id);

  function el(tag, cls, text) {
    const e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  /* ---- frames ---- */

  class Frame {
    constructor(from) {
      const f = from || null;
      this.state = f ? f.state.slice() : new Int8Array(NC).fill(-1);
      this.wait = f ? f.wait.slice() : new Int32Array(NC).fill(-1);
      this.aw = f ? f.aw.slice() : new Int32Array(NC);
      this.thr = f ? f.thr.slice() : new Int32Array(NC);
      this.name = f ? f.name.slice() : new Int32Array(NC).fill(-1);
      this.ready = f ? f.ready.slice() : new Int32Array(NC).fill(-1);
    }
    apply(r) {
      const c = r[0];
      this.state[c] = r[1];
      this.wait[c] = r[2];
      this.aw[c] = r[3];
      this.thr[c] = r[4];
      this.name[c] = r[5];
      this.ready[c] = r[6];
    }
  }

  const start = new Frame();
  for (const r of D.init) start.apply(r);
  const K = Math.max(256, Math.ceil((N * Math.max(NC, 1)) / 1e6));
  const checkpoints = [start]; // checkpoints[k]: the frame before event k*K

  function frameAfter(i) {
    const k = Math.floor((i + 1) / K);
    while (checkpoints.length <= k) {
      const j = checkpoints.length;
      const f = new Frame(checkpoints[j - 1]);
      for (let e = (j - 1) * K; e < j * K; e++) for (const r of EV[e][ROWS]) f.apply(r);
      checkpoints.push(f);
    }
    const f = new Frame(checkpoints[k]);
    for (let e = k * K; e <= i; e++) for (const r of EV[e][ROWS]) f.apply(r);
    return f;
  }

  const nameIn = (f, c) => (c < 0 ? '?' : str(f.name[c]) ?? str(D.co[c][C_NAME]) ?? '?');
  const isCoroutine = (c) => !D.co[c][C_OBJ];

  /* ---- state of the page ---- */

  let cur = 0;
  let filter = null; // sorted event indices the log shows, or null for all
  let filterNode = null;
  let timer = null;
  const gapBefore = new Map(D.gaps.map(([i, n]) => [i, n]));

  function involves(e, cs) {
    return cs.has(e[CO] - 1) || cs.has(e[FROM] - 1) || cs.has(e[TO] - 1) ||
      cs.has(e[BY] - 1) || cs.has(e[OBJ] - 1);
  }

  function say(text) {
    $('msg').textContent = text || '';
  }

  /* ---- the log: a virtual list ---- */

  const ROW = 18;
  const log = $('log');
  const space = $('log-space');
  const rowCount = () => (filter ? filter.length : N);
  const rowEvent = (r) => (filter ? filter[r] : r);
  let logHeight = -1;
  function sizeLog() {
    if (logHeight === rowCount()) return;
    logHeight = rowCount();
    space.style.height = logHeight * ROW + 'px';
  }

  /* The row showing event i, or the first row after it. */
  function rowOf(i) {
    if (!filter) return i;
    let lo = 0;
    let hi = filter.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (filter[mid] < i) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  function drawLog() {
    sizeLog();
    const top = log.scrollTop;
    const a = Math.max(0, Math.floor(top / ROW) - 10);
    const b = Math.min(rowCount(), Math.ceil((top + log.clientHeight) / ROW) + 10);
    const frag = document.createDocumentFragment();
    for (let r = a; r < b; r++) {
      const i = rowEvent(r);
      const d = el('div', 'row', EV[i][TEXT]);
      d.style.top = r * ROW + 'px';
      d.dataset.i = i;
      if (i === cur) d.classList.add('cur');
      if (gapBefore.has(i)) {
        d.classList.add('gap');
        d.title = gapBefore.get(i) + ' events lost by the tracer just before this one';
      }
      frag.appendChild(d);
    }
    space.replaceChildren(frag);
  }

  function showInLog(i) {
    const y = rowOf(i) * ROW;
    const h = log.clientHeight;
    sizeLog();
    if (y < log.scrollTop || y > log.scrollTop + h - ROW) log.scrollTop = Math.max(0, y - h / 2);
    drawLog();
  }

  let drawPending = false;
  log.addEventListener('scroll', () => {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => {
      drawPending = false;
      drawLog();
    });
  });
  space.addEventListener('click', (ev) => {
    const row = ev.target.closest('.row');
    if (row) go(Number(row.dataset.i));
  });

  /* ---- the graph: highlight and hide only ---- */

  const svg = $('graph').querySelector('svg');
  const nodes = new Map(); // SVG id -> element
  const edges = new Map(); // SVG id "e<k>" -> element
  const members = new Map(); // SVG id -> coroutine indices
  if (svg) {
    for (const g of svg.querySelectorAll('g.node')) nodes.set(g.id, g);
    for (const g of svg.querySelectorAll('g.edge')) edges.set(g.id, g);
    D.co.forEach((c, k) => {
      if (!members.has(c[C_NODE])) members.set(c[C_NODE], []);
      members.get(c[C_NODE]).push(k);
    });
    for (const [id, g] of nodes) {
      const t = g.querySelector('title');
      const cs = members.get(id);
      if (t && cs) {
        t.textContent = (cs.length === 1 ? str(D.co[cs[0]][C_NAME]) : cs.length + ' coroutines') +
          ': click to show only its events in the log';
      }
    }
  }
  const nodeOf = (c) => (c >= 0 ? D.co[c][C_NODE] : null);

  let lit = [];
  let nodeClass = new Map();
  function drawGraph(f, e) {
    if (!svg) return '';
    for (const g of lit) g.classList.remove('fired', 'involved');
    lit = [];
    const best = new Map();
    for (let c = 0; c < NC; c++) {
      const s = f.state[c];
      if (s < 0) continue;
      const id = D.co[c][C_NODE];
      const b = best.get(id);
      if (b === undefined || ORDER.indexOf(s) < ORDER.indexOf(b)) best.set(id, s);
    }
    for (const [id, g] of nodes) {
      const s = best.has(id) ? 'st-' + D.states[best.get(id)] : '';
      if (nodeClass.get(id) !== s) {
        if (nodeClass.get(id)) g.classList.remove(nodeClass.get(id));
        if (s) g.classList.add(s);
        nodeClass.set(id, s);
      }
    }
    // The edge this event drew, as the graph view decided when the page was written.
    const edge = e[EDGE] ? edges.get('e' + e[EDGE]) : null;
    if (edge) {
      edge.classList.add('fired');
      lit.push(edge);
    }
    for (const p of [e[CO] - 1, e[FROM] - 1, e[TO] - 1, e[OBJ] - 1]) {
      const g = p >= 0 ? nodes.get(nodeOf(p)) : null;
      if (g) {
        g.classList.add('involved');
        lit.push(g);
      }
    }
    return edge ? (edge.querySelector('text')?.textContent ?? 'an edge') : '';
  }

  /* When the graph is larger than its box, keep the event's coroutine in view. */
  function showNode() {
    const e = EV[cur];
    const g = e && e[CO] > 0 ? nodes.get(nodeOf(e[CO] - 1)) : null;
    const box = $('graph');
    if (!g || !scale) return;
    const r = g.getBoundingClientRect(), b = box.getBoundingClientRect();
    if (r.left < b.left || r.right > b.right) box.scrollLeft += r.left - b.left - (b.width - r.width) / 2;
    if (r.top < b.top || r.bottom > b.bottom) box.scrollTop += r.top - b.top - (b.height - r.height) / 2;
  }

  function pickNode(id) {
    if (filterNode) nodes.get(filterNode)?.classList.remove('picked');
    if (!id || id === filterNode) {
      filterNode = null;
      filter = null;
      $('filter').replaceChildren();
    } else {
      filterNode = id;
      nodes.get(id)?.classList.add('picked');
      const cs = new Set(members.get(id) || []);
      const list = [];
      for (let i = 0; i < N; i++) if (involves(EV[i], cs)) list.push(i);
      filter = Int32Array.from(list);
      const names = [...cs].map((c) => str(D.co[c][C_NAME]) ?? '?');
      const label = names.length > 1 ? names[0] + ' and ' + (names.length - 1) + ' more' : names[0];
      const x = el('button', null, '\u2715');
      x.title = 'show every event';
      x.addEventListener('click', () => pickNode(null));
      $('filter').replaceChildren(
        document.createTextNode('only ' + label + ' (' + list.length + ' events) '), x);
    }
    showInLog(cur);
  }

  if (svg) {
    svg.addEventListener('click', (ev) => {
      const g = ev.target.closest('g.node');
      if (g && members.has(g.id)) pickNode(g.id);
    });
  }

  /* ---- the event, its source, the frame, the table ---- */

  const sourceLines = new Map();
  function drawSource(e) {
    const box = $('source');
    const file = str(e[FILE]);
    box.replaceChildren();
    box.classList.remove('missing');
    if (!file) {
      $('source-title').textContent = 'Source';
      box.classList.add('missing');
      box.textContent = 'The trace names no source line for this event.';
      return;
    }
    const line = e[LINE];
    $('source-title').textContent = 'Source: ' + file + ':' + line;
    const text = D.src[file];
    if (typeof text !== 'string') {
      box.classList.add('missing');
      box.textContent = file + ' is not on this page: coroscope html did not find it ' +
        '(write the page again with --src DIR, DIR being the source tree).';
      return;
    }
    if (!sourceLines.has(file)) sourceLines.set(file, text.split('\n'));
    const lines = sourceLines.get(file);
    for (let n = Math.max(1, line - 5); n <= Math.min(lines.length, line + 5); n++) {
      const d = el('span', n === line ? 'src-line at' : 'src-line');
      d.append(el('span', 'ln', n), document.createTextNode(lines[n - 1]));
      box.appendChild(d);
    }
  }

  function waitsFor(f, c) {
    if (f.state[c] !== ST.suspended) return '';
    if (f.aw[c] > 0) return 'awaits ' + nameIn(f, f.aw[c] - 1);
    return str(f.wait[c]) ?? '';
  }

  function line(label, ...parts) {
    const d = el('div', 'line');
    d.append(el('span', 'label', label), ...parts);
    return d;
  }

  function names(f, cs, withThread) {
    if (!cs.length) return [document.createTextNode('(none)')];
    const out = [];
    cs.forEach((c, k) => {
      if (k) out.push(document.createTextNode(', '));
      out.push(el('span', 'name', nameIn(f, c)));
      if (withThread) out.push(document.createTextNode(' (thread ' + f.thr[c] + ')'));
    });
    return out;
  }

  function awaitChains(f) {
    const live = (c) => f.state[c] >= 0 && f.state[c] !== ST.dead;
    const awaited = new Set();
    for (let c = 0; c < NC; c++) if (live(c) && f.aw[c] > 0) awaited.add(f.aw[c] - 1);
    const chains = [];
    for (let c = 0; c < NC && chains.length < 50; c++) {
      if (!live(c) || f.aw[c] <= 0 || awaited.has(c)) continue;
      const seen = new Set([c]);
      let text = nameIn(f, c);
      for (let x = c; f.aw[x] > 0;) {
        x = f.aw[x] - 1;
        text += ' \u2192 awaits ' + nameIn(f, x);
        if (seen.has(x)) break;
        seen.add(x);
      }
      chains.push(text);
    }
    return chains;
  }

  function drawFrame(f, e, drawn) {
    const running = [], ready = [], waiting = [];
    for (let c = 0; c < NC; c++) {
      if (!isCoroutine(c)) continue;
      if (f.state[c] === ST.running) running.push(c);
      else if (f.state[c] === ST.ready) ready.push(c);
      else if (f.state[c] === ST.suspended) waiting.push(c);
    }
    ready.sort((a, b) => f.ready[a] - f.ready[b]);
    const box = $('frame');
    const run = line('Running', ...names(f, running, true));
    run.id = 'running';
    const out = [run];
    const [result, loop] = e[NOTES];
    if (loop) out.push(line('The loop', document.createTextNode(loop)));
    if (result) out.push(line('The wait', document.createTextNode(result)));
    out.push(line('Ready queue', ...names(f, ready, false)));
    waiting.slice(0, 30).forEach((c, k) => {
      out.push(line(k ? '' : 'Suspended', el('span', 'name', nameIn(f, c)),
        document.createTextNode(' \u2014 ' + waitsFor(f, c))));
    });
    if (!waiting.length) out.push(line('Suspended', document.createTextNode('(none)')));
    if (waiting.length > 30) {
      out.push(line('', document.createTextNode('and ' + (waiting.length - 30) + ' more (see the table)')));
    }
    const chains = awaitChains(f);
    out.push(line('Await chains', el('span', 'chain', chains.length ? chains.join('\n') : '(none)')));
    out.push(line('Just now', document.createTextNode(drawn
      ? 'the edge \u201c' + drawn + '\u201d (red in the graph)' : kind(e) + ' (no edge of the graph)')));
    box.replaceChildren(...out);
  }

  /* The table of coroutines is a virtual list too: sorted by state on
   * every step, only the rows in view are in the document. */
  const tableBox = $('table-box');
  const table = $('table');
  const TROW = 21;
  let tableRows = [];
  let tableFrame = null;
  let tableChanged = new Set();

  function drawTableRows(top = tableBox.scrollTop, height = tableBox.clientHeight) {
    const f = tableFrame;
    const a = Math.max(0, Math.floor(top / TROW) - 5);
    const b = Math.min(tableRows.length, Math.ceil((top + height) / TROW) + 5);
    const frag = document.createDocumentFragment();
    for (let r = a; r < b; r++) {
      const c = tableRows[r];
      const state = D.states[f.state[c]];
      const d = el('div', 'trow st-' + state + (tableChanged.has(c) ? ' changed' : ''));
      d.style.top = r * TROW + 'px';
      d.dataset.c = c;
      d.append(el('span', null, D.co[c][C_ID]), el('span', 'name', nameIn(f, c)),
        el('span', 'state', state), el('span', null, waitsFor(f, c)), el('span', null, f.thr[c]));
      frag.appendChild(d);
    }
    table.replaceChildren(frag);
  }

  function drawTable(f, e) {
    const top = tableBox.scrollTop, height = tableBox.clientHeight;
    tableFrame = f;
    tableChanged = new Set(e[ROWS].map((r) => r[0]));
    const rank = new Int8Array(D.states.length);
    ORDER.forEach((s, k) => { rank[s] = k; });
    tableRows = [];
    for (let c = 0; c < NC; c++) if (isCoroutine(c) && f.state[c] >= 0) tableRows.push(c);
    tableRows.sort((a, b) => rank[f.state[a]] - rank[f.state[b]] || a - b);
    table.style.height = tableRows.length * TROW + 'px';
    drawTableRows(top, height);
  }
  tableBox.addEventListener('scroll', () => requestAnimationFrame(() => drawTableRows()));

  function drawEvent(f, e, i) {
    $('event-line').textContent = e[TEXT];
    const parts = [kind(e)];
    const who = (label, p) => { if (p > 0) parts.push(label + ' ' + nameIn(f, p - 1)); };
    who('of', e[CO]); who('from', e[FROM]); who('to', e[TO]); who('by', e[BY]); who('object', e[OBJ]);
    const why = str(e[WHY]);
    if (why) parts.push((kind(e) === 'suspend' ? 'reason ' : 'cause ') + why);
    parts.push('thread ' + e[THREAD]);
    let text = parts.join(' \u00b7 ');
    if (gapBefore.has(i)) text = gapBefore.get(i) + ' events lost by the tracer just before this one. ' + text;
    $('event-why').textContent = text;
  }

  /* ---- moving ---- */

  function go(i) {
    if (!N) return;
    cur = Math.max(0, Math.min(N - 1, i));
    const e = EV[cur];
    const f = frameAfter(cur);
    showInLog(cur); // first: these two read the layout, which the panels below change
    drawTable(f, e);
    $('position').textContent = 'event ' + (cur + 1) + ' of ' + N + ' \u00b7 seq ' + e[SEQ];
    drawEvent(f, e, cur);
    drawSource(e);
    const drawn = drawGraph(f, e);
    drawFrame(f, e, drawn);
    showNode();
  }

  function step(d) {
    say('');
    go(cur + d);
  }

  function play(on) {
    clearInterval(timer);
    timer = null;
    if (on && cur < N - 1) {
      timer = setInterval(() => (cur >= N - 1 ? play(false) : go(cur + 1)),
        1000 / Number($('speed').value));
    }
    $('play').textContent = timer ? 'pause' : 'play';
  }

  function jump(seq) {
    if (!N) return;
    if (!(seq >= EV[0][SEQ] && seq <= EV[N - 1][SEQ])) {
      say('no event ' + seq + ' on this page: it holds seq ' + EV[0][SEQ] + ' to ' + EV[N - 1][SEQ]);
      return;
    }
    let lo = 0, hi = N - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (EV[mid][SEQ] <= seq) lo = mid;
      else hi = mid - 1;
    }
    say(EV[lo][SEQ] === seq ? '' : 'seq ' + seq + ' was lost; showing the event before it');
    go(lo);
  }

  function nextOf(c, dir) {
    const cs = new Set([c]);
    for (let i = cur + dir; i >= 0 && i < N; i += dir) {
      if (involves(EV[i], cs)) {
        say('');
        return go(i);
      }
    }
    say('no ' + (dir > 0 ? 'later' : 'earlier') + ' event of ' + (str(D.co[c][C_NAME]) ?? '?'));
  }

  function search(dir) {
    const q = $('search').value.toLowerCase();
    if (!q || !N) return;
    for (let k = 1; k <= N; k++) {
      const i = (((cur + dir * k) % N) + N) % N;
      if (EV[i][TEXT].toLowerCase().includes(q)) {
        say('');
        return go(i);
      }
    }
    say('no line contains \u201c' + $('search').value + '\u201d');
  }

  /* ---- wiring ---- */

  $('program').textContent = D.program + ' \u2014 ' + D.trace;
  const notes = [];
  if (!N) notes.push('This trace has no events.');
  if (N && (D.lo > 0 || D.window)) {
    notes.push('This page holds the events from seq ' + EV[0][SEQ] + ' to ' + EV[N - 1][SEQ] +
      ' of the trace\u2019s ' + D.total + '; the frames include what came before.');
  }
  if (D.cut) {
    notes.push('Left out: the ' + (D.total - D.lo - N) + ' events after seq ' + EV[N - 1][SEQ] +
      ' (a page holds at most ' + D.max + ' events). Write another window with ' +
      'coroscope html --from N --to N, or allow more with --first N.');
  }
  if (D.ending) notes.push(D.ending.replace(/^coroscope: /, '').trim());
  if (D.lost) notes.push('The tracer lost ' + D.lost + ' events: a red line in the log marks each gap.');
  if (!D.graph) notes.push('No graph: Graphviz failed when this page was written.');
  if (D.fold && D.graph) notes.push('The graph folds coroutines whose names differ only in numbers (echo#*).');
  $('notes').replaceChildren(...notes.map((t) => el('div', null, t)));

  const who = $('who');
  for (let c = 0; c < NC; c++) {
    if (!isCoroutine(c)) continue;
    const o = el('option', null, (str(D.co[c][C_NAME]) ?? '?') + ' (id ' + D.co[c][C_ID] + ')');
    o.value = c;
    who.appendChild(o);
  }
  table.addEventListener('click', (ev) => {
    const tr = ev.target.closest('.trow');
    if (tr && tr.dataset.c !== undefined) who.value = tr.dataset.c;
  });

  /* Zoom: fit the box, or a scale of the size Graphviz drew it at. */
  let scale = 0; // 0: fit
  function zoom(to) {
    if (!svg) return;
    scale = to;
    const w = svg.width.baseVal.value, h = svg.height.baseVal.value;
    svg.style.width = scale ? w * scale + 'px' : '';
    svg.style.height = scale ? h * scale + 'px' : '';
    showNode();
  }
  const fitScale = () => (svg ? $('graph').clientWidth / svg.width.baseVal.value : 1);
  $('zoom-in').addEventListener('click', () => zoom((scale || fitScale()) * 1.5));
  $('zoom-out').addEventListener('click', () => zoom((scale || fitScale()) / 1.5));
  $('zoom-fit').addEventListener('click', () => zoom(0));
  $('home').addEventListener('click', () => step(-N));
  $('back').addEventListener('click', () => step(-1));
  $('next').addEventListener('click', () => step(1));
  $('end').addEventListener('click', () => step(N));
  $('play').addEventListener('click', () => play(!timer));
  $('speed').addEventListener('change', () => { if (timer) play(true); });
  $('who-next').addEventListener('click', () => nextOf(Number(who.value), 1));
  $('who-prev').addEventListener('click', () => nextOf(Number(who.value), -1));
  $('jump').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') jump(Number($('jump').value));
  });
  $('search').addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') search(ev.shiftKey ? -1 : 1);
    if (ev.key === 'Escape') $('search').blur();
  });
  document.addEventListener('keydown', (ev) => {
    const t = ev.target;
    if (t instanceof HTMLInputElement || t instanceof HTMLSelectElement) return;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) return;
    const keys = {
      ArrowRight: () => step(1), ArrowDown: () => step(1), ArrowLeft: () => step(-1),
      ArrowUp: () => step(-1), PageDown: () => step(10), PageUp: () => step(-10),
      Home: () => step(-N), End: () => step(N), ' ': () => play(!timer),
      '/': () => $('search').focus(),
    };
    if (keys[ev.key]) {
      ev.preventDefault();
      keys[ev.key]();
    }
  });

  go(0);
  document.body.dataset.ready = '1';
})();
