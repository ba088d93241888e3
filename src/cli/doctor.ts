/** `rote doctor`: which execution providers can run here, and the one step that fixes what is missing. */
import type { Command } from 'commander';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description(
      'Check ONNX Runtime providers (CUDA, WebGPU, CPU): provider libraries, CUDA/cuDNN libraries, a tiny test run on each; say how to fix what is missing.',
    )
    .option('--json', 'print the report as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { diagnose } = await import('../setup/doctor.ts');
      const { summarizeNativeLog } = await import('../setup/provider-check.ts');
      const report = await diagnose();
      if (flags.json) {
        process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
        return;
      }
      const mark = (ok: boolean): string => (ok ? 'ok     ' : 'missing');
      const lines = [
        `node ${report.node} on ${report.platform}`,
        `onnxruntime-node ${report.onnxruntime.version}, backends: ${report.onnxruntime.backends.join(', ') || 'none listed'}`,
        `  binaries: ${report.onnxruntime.binaryDir ?? 'not found'}`,
        'CUDA provider libraries (next to libonnxruntime.so.1):',
        ...[
          ...report.cudaProvider.present.map((l) => `  ${mark(true)} ${l}`),
          ...report.cudaProvider.missing.map((l) => `  ${mark(false)} ${l}`),
        ],
        `CUDA / cuDNN libraries (needed: ${report.cuda.requiredFrom}):`,
        ...[...report.cuda.libraries, report.cuda.driver].map(
          (l) =>
            `  ${mark(l.path !== null)} ${l.name}${l.path ? ` (${l.path}; ${l.onLoaderPath ? `loader path, ${l.source}` : `${l.source}, off the loader path`})` : ''}${!l.path && l.otherVersions.length ? ` (other versions seen: ${l.otherVersions.join(', ')})` : ''}`,
        ),
        ...(report.cuda.addedByRote ? [`  rote added to LD_LIBRARY_PATH at start: ${report.cuda.addedByRote}`] : []),
        ...(report.cuda.additions.length
          ? [`  off the loader path: ${report.cuda.additions.join(', ')} (bin/rote.js adds these when it starts)`]
          : []),
        'providers (tiny test model):',
        ...Object.entries(report.providers).map(([name, error]) => {
          const log = summarizeNativeLog(report.nativeLog[name as keyof typeof report.nativeLog]);
          const native = log ? ` (its native stderr: ${log}; --json has every line)` : '';
          return `  ${error === null ? 'runs   ' : 'fails  '} ${name}${error ? `: ${error}` : ''}${native}`;
        }),
        '',
        ...report.advice,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
