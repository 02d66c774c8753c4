/**
 * Chromium for the browser tests: Debian's /usr/bin/chromium (installed by
 * .ci/install-system-deps) or PLAYWRIGHT_CHROMIUM_EXECUTABLE. Missing: with CI=true the tests
 * fail with that message, otherwise they are skipped with it.
 */
import { chromiumAvailable, chromiumPath } from "../../src/report/pdf.ts";

export const HAVE_CHROMIUM = chromiumAvailable();
export const MISSING_MESSAGE = `Chromium not found at ${chromiumPath()}: run .ci/install-system-deps (or set PLAYWRIGHT_CHROMIUM_EXECUTABLE)`;

/** Call at the top of a browser test file: returns true when the tests should be skipped. */
export function skipWithoutChromium(): boolean {
  if (HAVE_CHROMIUM) return false;
  if (process.env.CI === "true") throw new Error(MISSING_MESSAGE);
  console.warn(`skipping Chromium tests (browser, PDF): ${MISSING_MESSAGE}`);
  return true;
}
