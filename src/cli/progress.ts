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
    { format: `${label} [{bar}] {value}/{total} {percentage}% | eta {eta_formatted}`, stream: process.stderr, hideCursor: true },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return {
    increment: (by = 1) => bar.increment(by),
    stop: () => bar.stop(),
  };
}
