// stepper.test.mjs - the page `coroscope html` writes, in a real browser.
//   node stepper.test.mjs CASE COROSCOPE GEN_TRACE SOURCE_DIR WORK_DIR MODULES_DIR
// Cases:
//   chapter   tutorial chapter 6's page: step 10 times and back, checking the log line
//             and the running coroutine against `coroscope log` and `frame`;
//             the source line, jump, search, a coroutine's next event, a
//             click on a graph node
//   hostile   names made of HTML and script: shown as text, nothing runs
//   big       120,000 events: the page holds 100,000, says what it left out,
//             and stays quick
//   loop      chapter 8: the frame's line on the loop in epoll_wait, the edges it drew
//   window    lost events are said and marked; a --from/--to window; play
//   screenshot  the picture docs/coroscope.md shows (UPDATE_DOCS=1 rewrites it)
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { browser, check, fail, run } from './lib.mjs';

const [, , which, coroscope, genTrace, src, work, modules] = process.argv;
if (!modules) fail('usage: stepper.test.mjs CASE COROSCOPE GEN_TRACE SOURCE_DIR WORK_DIR MODULES_DIR');
mkdirSync(work, { recursive: true });

// Tutorial chapter 6's run, written as a learner gets it (`coroscope tutorial run`).
const chapterTrace = join(work, 'await', 'trace.jsonl');
function chapterRun() {
  run(coroscope, ['tutorial', 'run', '06', '-d', 'await'], { cwd: work });
  if (!existsSync(chapterTrace)) fail('coroscope tutorial run 06 wrote no ' + chapterTrace);
}

function page(trace, out, ...opts) {
  run(coroscope, ['html', ...opts, '-o', out, trace], { cwd: src });
  return out;
}

// The coroutine `coroscope frame` marks as running after seq N.
function runningAfter(trace, seq) {
  const frame = run(coroscope, ['frame', String(seq), trace]);
  const line = frame.split('\n').find((l) => l.includes('<- running'));
  if (!line) fail('coroscope frame ' + seq + ' shows nobody running');
  return line.trim().split(/\s+/)[1];
}

const logLines = (trace) => run(coroscope, ['log', trace]).split('\n').slice(1);
const text = (p, sel) => p.textContent(sel).then((t) => (t ?? '').trim());

async function stepAndCheck(p, trace, lines, seq, what) {
  check((await text(p, '.row.cur')) === lines[seq - 1].trim(),
    what + ': the highlighted log line is line ' + seq + ' of coroscope log');
  const running = runningAfter(trace, seq);
  const shown = await text(p, '#running');
  check(shown.startsWith('Running' + running + ' '),
    what + ': the frame shows ' + running + ' running, as coroscope frame ' + seq + ' does (' + shown + ')');
  check((await text(p, '#position')).includes('seq ' + seq), what + ': the position says seq ' + seq);
}

async function chapter(b) {
  // The commands docs/coroscope.md shows, as written.
  chapterRun();
  const said = run(coroscope, ['html', '-o', 'await.html', 'await/trace.jsonl'], { cwd: work });
  check(said === '', 'coroscope html prints nothing when it succeeds');
  const { page: p, errors } = await b.page(join(work, 'await.html'));
  const lines = logLines(chapterTrace);
  await stepAndCheck(p, chapterTrace, lines, 1, 'at the start');
  for (let i = 0; i < 10; i++) await p.keyboard.press('ArrowRight');
  await stepAndCheck(p, chapterTrace, lines, 11, 'after 10 steps');
  await p.keyboard.press('ArrowLeft');
  await stepAndCheck(p, chapterTrace, lines, 10, 'after a step back');

  // The source line of the event, from the embedded program.
  const source = readFileSync(join(src, 'tutorials/06-await/await.c'), 'utf8').split('\n');
  await p.keyboard.press('ArrowRight');
  const at = await text(p, '#source .at');
  check(at === '34' + source[33].trim() || at.endsWith(source[33].trim()),
    'the source panel highlights await.c:34 (' + at + ')');
  check((await text(p, '#source-title')) === 'Source: tutorials/06-await/await.c:34',
    'the source panel names the file and line');

  // The frame: parent awaits child, and the edge that fired is marked.
  check((await text(p, '#frame')).includes('parent \u2192 awaits child'), 'the await chain is shown');
  await p.keyboard.press('ArrowLeft');
  await p.keyboard.press('ArrowLeft'); // seq 9: resume child -> main
  check((await p.$$('#graph g.edge.fired')).length >= 1, 'a resume highlights its edge in the graph');

  // Jump, Home/End, search, a coroutine's next event.
  await p.fill('#jump', '15');
  await p.press('#jump', 'Enter');
  await stepAndCheck(p, chapterTrace, lines, 15, 'after jumping to seq 15');
  await p.fill('#jump', '99');
  await p.press('#jump', 'Enter');
  check((await text(p, '#msg')).includes('no event 99'), 'an event not on the page is said to be missing');
  await p.click('#log');
  await p.keyboard.press('End');
  await stepAndCheck(p, chapterTrace, lines, lines.filter((l) => l.trim()).length, 'at End');
  await p.keyboard.press('Home');
  await stepAndCheck(p, chapterTrace, lines, 1, 'at Home');
  await p.keyboard.press('/');
  check(await p.evaluate(() => document.activeElement.id === 'search'), '/ goes to the search box');
  await p.keyboard.type('x finish');
  await p.keyboard.press('Enter');
  check((await text(p, '.row.cur')).includes('x finish'), 'search finds the next line with "x finish"');
  await p.selectOption('#who', { label: 'child (id 3)' });
  await p.click('#who-next');
  check((await text(p, '.row.cur')).includes('child'), 'next event of child is about child');

  // Clicking a node filters the log to its events, and again shows all.
  const node = await p.$('#graph g.node#c3');
  if (!node) fail('the graph has no node for child (id c3)');
  await node.click();
  const rows = await p.$$eval('#log .row', (r) => r.map((x) => x.textContent));
  check(rows.length > 0 && rows.every((r) => r.includes('child')), 'clicking child in the graph filters the log');
  check((await text(p, '#filter')).startsWith('only child'), 'the filter is named');
  await node.click();
  check((await p.$$('#log .row')).length === lines.filter((l) => l.trim()).length, 'a second click shows every line');
  // Zoom: larger than the box, then fit again.
  const width = () => p.$eval('#graph svg', (s) => s.getBoundingClientRect().width);
  const fit = await width();
  await p.click('#zoom-in');
  await p.click('#zoom-in');
  check((await width()) > fit * 1.5, 'zooming in makes the graph larger than its box');
  await p.click('#zoom-fit');
  check(Math.abs((await width()) - fit) < 1, 'fit puts it back in its box');
  check(errors.length === 0, 'no script errors and no requests off the page (' + errors.join('; ') + ')');
}

async function hostile(b) {
  const trace = join(src, 'tests/browser/hostile.jsonl');
  const out = page(trace, join(work, 'hostile.html'));
  const html = readFileSync(out, 'utf8');
  check((html.match(/<script/g) || []).length === 2, 'the page has its own two script elements and no others');
  const { page: p, errors } = await b.page(out);
  for (let i = 0; i < 12; i++) await p.keyboard.press('ArrowRight');
  check(await p.evaluate(() => window.__pwned === undefined), 'no script from a name ran');
  check((await p.$$('script')).length === 2, 'no script element was made from a name');
  check((await p.$$('img, iframe, style:not(head style), [onload], [onerror]')).length === 0,
    'no element was made from a name');
  const table = await text(p, '#table');
  check(table.includes('<script>alert(1)</script>'), 'the hostile name is shown as text in the table');
  check((await text(p, '#program')).startsWith("</script><script>window.__pwned='program'</script>"),
    'the hostile program name is shown as text');
  check(await p.evaluate(() => document.title.includes('</script>')), 'the title shows the name as text');
  await p.keyboard.press('Home');
  await p.keyboard.press('ArrowRight');
  check((await text(p, '#source')).includes('not on this page'), 'a source file that is not a program file is not embedded');
  check(!html.includes('root:x:0'), 'a path out of the tree embeds nothing');
  check(errors.length === 0, 'no dialog, no script error, no request (' + errors.join('; ') + ')');
}

async function big(b) {
  const trace = join(work, 'big.jsonl');
  run(genTrace, ['echo', '100000', trace]);
  let t = Date.now();
  const out = page(trace, join(work, 'big.html'));
  console.log('# coroscope html wrote 100,000 of 120,000 events in ' + (Date.now() - t) + ' ms');
  t = Date.now();
  const { page: p, errors } = await b.page(out);
  const load = Date.now() - t;
  console.log('# the page was ready in ' + load + ' ms');
  check((await text(p, '#notes')).includes('Left out: the 20003 events after seq 100000'),
    'the page says what it left out');
  check((await text(p, '#position')) === 'event 1 of 100000 \u00b7 seq 1', 'it holds 100,000 events');
  t = Date.now();
  await p.keyboard.press('End');
  check((await text(p, '#position')).endsWith('seq 100000'), 'End reaches the last event on the page');
  for (let i = 0; i < 20; i++) await p.keyboard.press('ArrowLeft');
  await p.fill('#jump', '54321');
  await p.press('#jump', 'Enter');
  const steps = Date.now() - t;
  console.log('# End, 20 steps back and a jump took ' + steps + ' ms');
  await stepAndCheck(p, trace, logLines(trace), 54321, 'deep in a big run');
  check((await p.$$('#log .row')).length < 200, 'only the lines in view are in the document');
  check((await p.$$('#table .trow')).length < 200, 'only the table rows in view are in the document');
  check(load < 30000 && steps < 30000, 'the page stays responsive (generous bounds for a loaded machine)');
  check(errors.length === 0, 'no script errors (' + errors.join('; ') + ')');
}

async function window_(b) {
  // Lost events: the page says how many, and marks the line after each gap.
  const gap = join(src, 'tests/viz/traces/gap.jsonl');
  let { page: p, errors } = await b.page(page(gap, join(work, 'gap.html')));
  check((await text(p, '#notes')).includes('The tracer lost 7 events'), 'the page says how many events were lost');
  await p.keyboard.press('End');
  await p.keyboard.press('ArrowLeft');
  check((await p.getAttribute('.row.cur', 'class')).includes('gap'), 'the line after a gap is marked');
  check((await text(p, '#event-why')).startsWith('5 events lost by the tracer just before this one'),
    'the event after a gap says what was lost');
  check(errors.length === 0, 'no script errors on the gap page (' + errors.join('; ') + ')');

  // A run cut short: the page says so, in the words every view uses.
  const cut = join(src, 'tests/viz/traces/truncated.jsonl');
  ({ page: p, errors } = await b.page(page(cut, join(work, 'cut.html'))));
  check((await text(p, '#notes')).includes('the run did not end cleanly'), 'a run cut short is said to be');

  // A window: the frames still include what came before it.
  chapterRun();
  ({ page: p, errors } = await b.page(page(chapterTrace, join(work, 'window.html'), '--from', '12', '--to', '16')));
  check((await text(p, '#notes')).includes('This page holds the events from seq 12 to 16'), 'the page names its window');
  check((await text(p, '#position')) === 'event 1 of 5 \u00b7 seq 12', 'it starts at the window');
  await stepAndCheck(p, chapterTrace, logLines(chapterTrace), 12, 'at the window start');
  check((await text(p, '#frame')).includes('parent \u2192 awaits child'),
    'the frame at the window start knows the await made before it');

  // Play: at 20 events a second it reaches the end and stops by itself.
  await p.selectOption('#speed', '20');
  await p.keyboard.press(' ');
  await p.waitForFunction(() => document.getElementById('play').textContent === 'play', null, { timeout: 10000 });
  await stepAndCheck(p, chapterTrace, logLines(chapterTrace), 16, 'after playing to the end');
  check(errors.length === 0, 'no script errors on the window page (' + errors.join('; ') + ')');
}

async function loop(b) {
  // Chapter 8's event loop: the frame's loop line is the one `coroscope frame`
  // prints, and the edges an epoll_wait and an io resume drew light up.
  run(coroscope, ['tutorial', 'run', '08', '-d', 'echo'], { cwd: work });
  const trace = join(work, 'echo', 'trace.jsonl');
  const { page: p, errors } = await b.page(page(trace, join(work, 'echo.html')));
  const lines = logLines(trace);
  const seqOf = (re) => Number(lines.find((l) => re.test(l)).trim().split(/\s+/)[0]);
  const wait = seqOf(/~ epoll_wait/);
  const frame = run(coroscope, ['frame', String(wait - 1), trace]).split('\n');
  const loopLine = frame.find((l) => l.includes(': in epoll_wait'));
  if (!loopLine) fail('coroscope frame ' + (wait - 1) + ' shows no loop line');
  await p.fill('#jump', String(wait - 1));
  await p.press('#jump', 'Enter');
  check((await text(p, '#frame')).includes(loopLine.trim()),
    'before epoll_wait the frame shows the loop line coroscope frame prints: ' + loopLine.trim());
  for (const [what, re] of [['an epoll_wait', /~ epoll_wait/], ['an io resume', /> resume .*readable/]]) {
    await p.fill('#jump', String(seqOf(re)));
    await p.press('#jump', 'Enter');
    check((await p.$$('#graph g.edge.fired')).length === 1, what + ' lights the one edge it drew');
  }
  check(errors.length === 0, 'no script errors (' + errors.join('; ') + ')');
}

async function screenshot(b) {
  chapterRun();
  const { page: p, errors } = await b.page(page(chapterTrace, join(work, 'shot.html')));
  for (let i = 0; i < 5; i++) await p.keyboard.press('ArrowRight');
  const shot = join(work, 'coroscope-html.png');
  await p.screenshot({ path: shot });
  check(readFileSync(shot).subarray(1, 4).toString() === 'PNG', 'a screenshot was taken: ' + shot);
  const img = join(src, 'docs/img/coroscope-html.png');
  if (process.env.UPDATE_DOCS === '1') copyFileSync(shot, img);
  check(existsSync(img), 'docs/img/coroscope-html.png exists (UPDATE_DOCS=1 writes it)');
  const doc = readFileSync(join(src, 'docs/coroscope.md'), 'utf8');
  check(doc.includes('img/coroscope-html.png'), 'docs/coroscope.md shows it');
  check(doc.includes('\ncoroscope tutorial run 06 -d await\ncoroscope html -o await.html await/trace.jsonl\n'),
    'docs/coroscope.md shows the commands the chapter case runs');
  check(errors.length === 0, 'no script errors (' + errors.join('; ') + ')');
}

const cases = { chapter, hostile, big, window: window_, loop, screenshot };
if (!cases[which]) fail('unknown case ' + which);
const b = await browser(modules);
try {
  await cases[which](b);
} finally {
  await b.close();
}
console.log('ok - ' + which);
