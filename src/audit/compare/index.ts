/** compare(): models audited on the same canary set, side by side (compare.ts), and writing the comparison (write.ts). */
export { compare, compareReports, COMPARE_EXPECTATIONS, type CompareOptions, type ReportSource } from './compare.ts';
export { SCORE_RESOLUTION } from './paired-tests.ts';
export { writeComparisonFiles, writeComparisonReport } from './write.ts';
