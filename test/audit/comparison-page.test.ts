/**
 * The comparison page reads at a glance (issue 14): rendered by headless
 * Chromium in a 1280 px window, it uses the width, keeps every number on one
 * line, leads with the primary test per pair and folds the per-group tests.
 * A measuring script is added to a copy of the page (the page itself is
 * unchanged); a screenshot is written too (ROTE_SCREENSHOT_DIR keeps it).
 */
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAuditReport } from '../../src/audit/pipeline/build-report.ts';
import { compareReports } from '../../src/audit/compare/index.ts';
import { comparisonHtml, comparisonMarkdown } from '../../src/audit/render/index.ts';
import { syntheticRecords, syntheticRows, syntheticSet } from './synthetic.ts';
import { CHROMIUM, HEADLESS_FLAGS } from './chromium.ts';

const WIDTH = 1280;

function chromium(args: string[], profile: string): Promise<string> {
  const common = [...HEADLESS_FLAGS, '--hide-scrollbars', `--user-data-dir=${profile}`];
  return new Promise((resolve, reject) => {
    execFile(
      CHROMIUM!,
      [...common, ...args],
      { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`chromium failed: ${error.message}\n${stderr}`));
        else resolve(stdout);
      },
    );
  });
}

/** Measures the laid-out page (folded sections opened after noting that they were closed) and writes the results as JSON into <html data-layout>. */
const MEASURE = `<script>(function(){
  function lines(cell){var range=document.createRange();range.selectNodeContents(cell);var tops={};[].slice.call(range.getClientRects()).forEach(function(r){if(r.width>0)tops[Math.round(r.top)]=1;});return Object.keys(tops).length;}
  var detailsOpen=[].slice.call(document.querySelectorAll('details')).map(function(d){return d.open;});
  [].slice.call(document.querySelectorAll('details')).forEach(function(d){d.open=true;});
  var tables=[].slice.call(document.querySelectorAll('table')).map(function(t){
    var visible=t.getBoundingClientRect().height>0;
    var cells=[].slice.call(t.querySelectorAll('td,th'));
    var wrapped=visible?cells.filter(function(c){return !c.classList.contains('wrap')&&lines(c)>1;}).map(function(c){return c.textContent;}):[];
    var textHeaders=[].slice.call(t.querySelectorAll('th.text')).map(function(th){return getComputedStyle(th).textAlign;});
    return {rows:t.rows.length,visible:visible,width:Math.round(t.getBoundingClientRect().width),wrapped:wrapped,textHeaders:textHeaders};
  });
  var headings=[].slice.call(document.querySelectorAll('h2')).map(function(h){return h.textContent;});
  var charts=[].slice.call(document.querySelectorAll('svg.chart')).map(function(c){var r=c.getBoundingClientRect();return {top:Math.round(r.top),width:Math.round(r.width)};});
  var layout={viewport:innerWidth,scrollWidth:document.documentElement.scrollWidth,bodyWidth:Math.round(document.body.getBoundingClientRect().width),tables:tables,headings:headings,charts:charts,
    detailsOpen:detailsOpen,boxes:[].slice.call(document.querySelectorAll('.scroll-x')).map(function(b){return {scroll:b.scrollWidth,client:b.clientWidth};}),
    summaries:[].slice.call(document.querySelectorAll('.pairs summary')).map(function(s){return {lines:lines(s),text:s.textContent};}),
    verdictLines:[].slice.call(document.querySelectorAll('.pairs details p')).map(lines),wrapLines:[].slice.call(document.querySelectorAll('td.wrap')).map(lines)};
  document.documentElement.setAttribute('data-layout',JSON.stringify(layout));
})();</script>`;

if (!CHROMIUM) {
  console.log(
    'comparison-page.test.ts: skipped, no Chromium at /usr/bin/chromium (apt-get install chromium to run it)',
  );
} else {
  test('the comparison page at 1280 px: full width, numbers on one line, primary tests first, per-group detail folded', async () => {
    const dir = process.env.ROTE_SCREENSHOT_DIR ?? (await mkdtemp(join(tmpdir(), 'rote-comparison-page-')));
    try {
      // Six models as the demo has: a memorizing baseline, two clipped models, a twin, a control and one more.
      const set = syntheticSet('page-test', 12, 48);
      const build = (name: string, rate: (r: number | null) => number, seed = name) =>
        buildAuditReport({ set, ...syntheticRecords(set, name), rows: syntheticRows(set, seed, rate) });
      const memorizing = (r: number | null) => (r === null ? 0.9 : Math.max(0, 0.9 - 0.25 * Math.log2(r + 1)));
      const reports = [
        build('baseline', memorizing),
        build('per-example-clip', (r) => (r === null ? 0.9 : Math.min(0.9, memorizing(r) + 0.3))),
        build('per-core-clip', memorizing, 'baseline'),
        build('control', () => 0.9),
        build('adaptive-per-core-clip', (r) => (r === null ? 0.9 : Math.min(0.9, memorizing(r) + 0.1))),
        build('adaptive-per-example-clip', (r) => (r === null ? 0.9 : Math.min(0.9, memorizing(r) + 0.2))),
      ];
      const comparison = compareReports(reports.map((report) => ({ report, path: null })));
      const page = comparisonHtml(comparison);
      await writeFile(join(dir, 'comparison.html'), page);
      await writeFile(join(dir, 'measured.html'), page.replace('</body>', `${MEASURE}\n</body>`));

      const dom = await chromium(
        [`--window-size=${WIDTH},900`, '--dump-dom', `file://${join(dir, 'measured.html')}`],
        join(dir, 'profile'),
      );
      const encoded = /data-layout="([^"]*)"/.exec(dom)?.[1];
      assert.ok(encoded, 'the measuring script ran');
      const layout = JSON.parse(
        encoded!
          .replace(/&quot;/g, '"')
          .replace(/&amp;/g, '&')
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>'),
      ) as {
        viewport: number;
        scrollWidth: number;
        bodyWidth: number;
        headings: string[];
        detailsOpen: boolean[];
        wrapLines: number[];
        tables: { rows: number; visible: boolean; width: number; wrapped: string[]; textHeaders: string[] }[];
        charts: { top: number; width: number }[];
        boxes: { scroll: number; client: number }[];
        summaries: { lines: number; text: string }[];
        verdictLines: number[];
      };
      assert.is(layout.viewport, WIDTH);
      assert.ok(layout.scrollWidth <= layout.viewport, `no horizontal scrolling: ${layout.scrollWidth} px`);
      assert.ok(layout.bodyWidth >= 0.9 * WIDTH, `the page uses the width: body ${layout.bodyWidth} px`);
      // Lead with the primary test; per-group detail folded (closed) below.
      assert.equal(layout.headings.slice(0, 2), ['Primary test per pair', 'Groups side by side']);
      assert.ok(layout.detailsOpen.length >= 1 && layout.detailsOpen.every((open) => !open), 'details start closed');
      // The line counter sees wrapping where it is allowed (the models' own long verdicts): it can fail.
      assert.ok(Math.max(...layout.wrapLines) > 1, `wrapped verdict cells: ${layout.wrapLines}`);
      const [primary, groups] = layout.tables;
      assert.is(
        primary!.rows,
        1 + 5 * 6,
        'header + 5 pairs x (2 primary + 2 held-out + 2 inserted-vs-held-out controls)',
      );
      for (const table of layout.tables.filter((t) => t.visible)) {
        assert.equal(table.wrapped, [], `cells on one line: ${table.wrapped.join(' | ')}`);
        assert.ok(
          table.textHeaders.every((align) => align === 'left'),
          'text headers aligned with their cells',
        );
      }
      assert.ok(groups!.width > 0.6 * WIDTH, `groups side by side spread out: ${groups!.width} px`);
      // Wide tables fit their own box at 1280 px with six models (before: the groups table ran past it).
      assert.ok(layout.boxes.length >= 1, 'the groups table sits in its own box');
      for (const box of layout.boxes)
        assert.ok(box.scroll <= box.client, `a table ${box.scroll} px wide in a box of ${box.client} px`);
      // Each pair leads with one line (finding, primary p-values, beyond held-out); the verdict is folded beneath.
      assert.is(layout.summaries.length, 5);
      for (const summary of layout.summaries) {
        assert.is(summary.lines, 1, `one line: ${summary.text}`);
        assert.match(
          summary.text,
          /^[\w-]+ vs baseline: .*\(CER p = [^,]+, CTC score p = [^)]+\)(; beyond held-out: (yes|no))?/,
        );
      }
      assert.ok(
        layout.verdictLines.every((lines) => lines > 1),
        'the full verdicts are paragraphs beneath',
      );
      assert.match(
        layout.summaries[0]!.text,
        /^per-example-clip vs baseline: memorizes less \(.*\); beyond held-out: yes$/,
      );
      const markdown = comparisonMarkdown(comparison);
      assert.ok(
        markdown.indexOf('- **per-example-clip vs baseline:** memorizes less') <
          markdown.indexOf('## Verdicts in full'),
      );
      // Charts side by side: the first two on one row.
      assert.ok(
        layout.charts.length === 6 && layout.charts[0]!.top === layout.charts[1]!.top,
        JSON.stringify(layout.charts),
      );

      const screenshot = join(dir, 'comparison.png');
      await chromium(
        [`--window-size=${WIDTH},1100`, `--screenshot=${screenshot}`, `file://${join(dir, 'comparison.html')}`],
        join(dir, 'profile'),
      );
      assert.ok(statSync(screenshot).size > 20_000, 'screenshot written');
    } finally {
      if (!process.env.ROTE_SCREENSHOT_DIR) await rm(dir, { recursive: true, force: true });
    }
  });
}

test.run();
