/** The audio stage's resampler is the shared one in src/util (src/manifest uses it too). */
export { resample } from '../util/resample.ts';
