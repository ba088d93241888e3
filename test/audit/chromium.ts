/** Headless Chromium for the tests that render the HTML reports. */
import { existsSync } from 'node:fs';

/** The Chromium binary, or undefined where none is installed (the tests that need it are then skipped). */
export const CHROMIUM = ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find((path) => existsSync(path));

/** Headless, sandbox-free, without a GPU and without background traffic. */
export const HEADLESS_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
