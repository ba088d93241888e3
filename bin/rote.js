#!/usr/bin/env node
// Entry point of the `rote` command: runs the TypeScript sources through tsx.
//
// CUDA libraries off the loader path (docs/cuda.md): when ONNX Runtime's CUDA provider
// is installed and a library it needs (libcudart, libcublas, libcudnn, ...) was found
// only in a Python wheel or CUDA toolkit directory, rote starts itself once more with
// those directories on LD_LIBRARY_PATH (the dynamic loader reads it only at start).
// ROTE_CUDA_REEXEC marks the second process, so it never loops; setting it yourself
// (ROTE_CUDA_REEXEC=off) turns the re-exec off.
import { spawn } from 'node:child_process';
import { register } from 'tsx/esm/api';

register();
const { cudaLibraryReport, reexecPlan, REEXEC_MARKER } = await import('../src/setup/cuda.ts');
const plan = reexecPlan(process.argv.slice(2), process.env, () => cudaLibraryReport());
if (plan) {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, LD_LIBRARY_PATH: plan.ldLibraryPath, [REEXEC_MARKER]: plan.added.join(':') },
  });
  // Ctrl-C reaches both processes (same process group): this one waits for the child to
  // finish on its own; a SIGTERM or SIGHUP sent to this process alone is passed on.
  const forwarded = {
    SIGINT: () => undefined,
    SIGTERM: () => child.kill('SIGTERM'),
    SIGHUP: () => child.kill('SIGHUP'),
  };
  for (const [signal, handler] of Object.entries(forwarded)) process.on(signal, handler);
  child.on('error', (error) => {
    process.stderr.write(
      `rote: could not restart with the CUDA libraries on LD_LIBRARY_PATH (${error.message}); run with ROTE_CUDA_REEXEC=off to skip it\n`,
    );
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    for (const [name, handler] of Object.entries(forwarded)) process.off(name, handler);
    if (signal) process.kill(process.pid, signal);
    else process.exit(code ?? 1);
  });
} else {
  await import('../src/cli/main.ts');
}
