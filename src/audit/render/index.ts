/** The report renderers: the audit's and the comparison's pages (Markdown, HTML, terminal). */
export { auditHtml, auditMarkdown, auditTerminalTable } from './audit-page.ts';
export { comparisonHtml, comparisonMarkdown, comparisonTerminalTable } from './comparison-page.ts';
