import cliProgress from 'cli-progress';

export interface Progress {
  increment(by?: number): void;
  stop(): void;
}

/**
 * A progress bar on stderr when it is a TTY and the user did not ask for
 * `--quiet` or `--json`; otherwise nothing.
 */
export function createProgress(label: string, total: number, options: { quiet?: boolean } = {}): Progress {
  if (options.quiet || !process.stderr.isTTY || total <= 0) return { increment() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {percentage}% | eta {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    increment: (by = 1) => bar.increment(by),
    stop: () => bar.stop(),
  };
}

/**
 * verify's progress on stderr (a TTY, not --quiet/--json): manifest bytes read with the records so far, then the
 * audio checked. A total of 0 (a gzip manifest) grows with what was read.
 */
export function createVerifyProgress(options: { quiet?: boolean } = {}): {
  update: (event: { stage: 'read' | 'audio'; done: number; total: number; records: number }) => void;
  stop: () => void;
} {
  if (options.quiet || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: 'verify {stage} [{bar}] {percentage}% | {records} records | eta {eta_formatted}',
      stream: process.stderr,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let stage: string | null = null;
  return {
    update: (event) => {
      const total = Math.max(event.total, event.done, 1);
      const label = event.stage === 'read' ? 'reading manifests' : 'checking canary audio';
      if (stage !== event.stage) {
        if (stage !== null) bar.stop();
        bar.start(total, event.done, { stage: label, records: event.records });
        stage = event.stage;
      } else {
        bar.setTotal(total);
        bar.update(event.done, { records: event.records });
      }
    },
    stop: () => {
      if (stage !== null) bar.stop();
    },
  };
}
