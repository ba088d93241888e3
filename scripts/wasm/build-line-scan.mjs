// Assembles src/manifest/stream/line-scan.wat into src/manifest/stream/line-scan-wasm.ts
// (the module's bytes as base64, so bundles and a fresh clone need no build).
// wabt is not a dependency of rote; run:
//   npm i --no-save wabt@1.0.39 && node scripts/wasm/build-line-scan.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(`${root}package.json`);
const wabt = await require(process.env.WABT ?? 'wabt')();
const source = `${root}src/manifest/stream/line-scan.wat`;
const parsed = wabt.parseWat(source, readFileSync(source, 'utf8'), { simd: true });
parsed.resolveNames();
parsed.validate();
const { buffer } = parsed.toBinary({});
const base64 = Buffer.from(buffer).toString('base64');
writeFileSync(`${root}src/manifest/stream/line-scan-wasm.ts`, `// Generated from line-scan.wat by scripts/wasm/build-line-scan.mjs (wabt ${require(process.env.WABT ? `${process.env.WABT}/package.json` : 'wabt/package.json').version}); do not edit.
export const LINE_SCAN_WASM = '${base64}';
`);
console.log(`line-scan-wasm.ts: ${buffer.length} bytes of WebAssembly`);
