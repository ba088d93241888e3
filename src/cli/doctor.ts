/** `rote doctor`: which execution providers can run here, and the one step that fixes what is missing. */
import type { Command } from 'commander';

export function registerDoctor(program: Command): void {
  program
    .command('doctor')
    .description('Check ONNX Runtime providers (CUDA, WebGPU, CPU): provider libraries, CUDA/cuDNN libraries, a tiny test run on each; say how to fix what is missing.')
    .option('--json', 'print the report as JSON')
    .action(async (flags: { json?: boolean }) => {
      const { diagnose } = await import('../asr/doctor.ts');
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
        ...[...report.cudaProvider.present.map((l) => `  ${mark(true)} ${l}`), ...report.cudaProvider.missing.map((l) => `  ${mark(false)} ${l}`)],
        'CUDA / cuDNN libraries:',
        ...Object.entries(report.cudaLibraries).map(([name, where]) => `  ${mark(where !== null)} ${name}${where ? ` (${where})` : ''}`),
        'providers (tiny test model):',
        ...Object.entries(report.providers).map(([name, error]) => `  ${error === null ? 'runs   ' : 'fails  '} ${name}${error ? `: ${error}` : ''}`),
        '',
        ...report.advice,
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
