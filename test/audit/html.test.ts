import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildAuditReport } from '../../src/audit/pipeline/build-report.ts';
import { compareReports } from '../../src/audit/compare/index.ts';
import { auditHtml, comparisonHtml } from '../../src/audit/render/index.ts';
import { syntheticRecords, syntheticRows, syntheticSet } from './synthetic.ts';
import { CHROMIUM, HEADLESS_FLAGS } from './chromium.ts';

/** Loads a file in headless Chromium; returns the DOM after scripts ran and every console message. */
function render(file: string, profile: string): Promise<{ dom: string; console: string[] }> {
  const args = [
    ...HEADLESS_FLAGS,
    `--user-data-dir=${profile}`,
    '--enable-logging=stderr',
    '--v=0',
    '--dump-dom',
    `file://${file}`,
  ];
  return new Promise((resolve, reject) => {
    execFile(CHROMIUM!, args, { timeout: 60_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`chromium failed: ${error.message}\n${stderr}`));
      else resolve({ dom: stdout, console: stderr.split('\n').filter((line) => line.includes(':CONSOLE')) });
    });
  });
}

if (!CHROMIUM) {
  console.log('html.test.ts: skipped, no Chromium at /usr/bin/chromium (apt-get install chromium to run it)');
} else {
  test('audit and comparison HTML render in Chromium with their charts and no console messages', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rote-audit-html-'));
    try {
      const set = syntheticSet('html-test', 6, 12);
      const build = (name: string, rate: (r: number | null) => number) =>
        buildAuditReport({ set, ...syntheticRecords(set, name), rows: syntheticRows(set, name, rate) });
      const a = build('unclipped', (r) => (r === null ? 0.9 : 0.9 / (1 + r)));
      const b = build('clipped <&>', () => 0.9);
      await writeFile(join(dir, 'report.html'), auditHtml(a));
      await writeFile(
        join(dir, 'comparison.html'),
        comparisonHtml(
          compareReports([
            { report: a, path: null },
            { report: b, path: null },
          ]),
        ),
      );
      // Control: a page with a script error and a blocked network request must be caught.
      await writeFile(
        join(dir, 'bad.html'),
        `<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'"></head><body><img src="https://example.invalid/x.png"><script>notDefined();</script></body></html>`,
      );

      const audit = await render(join(dir, 'report.html'), join(dir, 'profile'));
      assert.equal(audit.console, [], 'no console output');
      assert.match(audit.dom, /data-rote-rendered="4"/);
      assert.match(audit.dom, /<svg[^>]*id="chart-cer"/);
      assert.match(audit.dom, /<svg[^>]*id="chart-roc-linear"/);
      assert.match(audit.dom, /<svg[^>]*id="chart-roc-log"/);
      assert.match(audit.dom, /<svg[^>]*id="chart-exposure"/);
      assert.match(audit.dom, /class="band"/);
      assert.match(audit.dom, /memorization detected from/);

      const comparison = await render(join(dir, 'comparison.html'), join(dir, 'profile'));
      assert.equal(comparison.console, []);
      assert.match(comparison.dom, /data-rote-rendered="2"/);
      assert.match(comparison.dom, /clipped &lt;&amp;&gt;/);

      const bad = await render(join(dir, 'bad.html'), join(dir, 'profile'));
      assert.ok(
        bad.console.some((line) => /Uncaught ReferenceError/.test(line)),
        bad.console.join('\n'),
      );
      assert.ok(
        bad.console.some((line) => /Content Security Policy/.test(line)),
        bad.console.join('\n'),
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

test.run();
