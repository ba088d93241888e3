/**
 * The execution-provider vocabulary (for src/asr/runtime.ts and provider-check.ts), in a module
 * without ONNX Runtime so that option specs and --help can name the choices without loading the
 * native addon. runtime.ts re-exports all of it; everything else imports it from there or from
 * here, never spells it out.
 */
export type ProviderName = 'cuda' | 'webgpu' | 'cpu';
export const PROVIDER_NAMES: readonly ProviderName[] = ['cuda', 'webgpu', 'cpu'];
/** The order `auto` tries. */
export const AUTO_ORDER: readonly ProviderName[] = ['cuda', 'webgpu', 'cpu'];
/** What a user may ask for: a provider, or `auto` (AUTO_ORDER, the first that runs). */
export type ProviderChoice = 'auto' | ProviderName;
export const PROVIDER_CHOICES: readonly ProviderChoice[] = ['auto', ...PROVIDER_NAMES];
