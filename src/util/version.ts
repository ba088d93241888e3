import { readFileSync } from 'node:fs';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

/** rote's version, from package.json; recorded in every file rote writes. */
export const TOOL_VERSION: string = packageJson.version;
