/**
 * The Chromium that prints the committee report comes from the configuration (src/config:
 * PLAYWRIGHT_CHROMIUM_EXECUTABLE, trimmed; Debian's /usr/bin/chromium when unset), and the PDF
 * printer looks for it there: a path that does not exist is reported by name.
 */
import { afterEach, describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config/index.ts";
import { ChromiumMissingError, chromiumAvailable, chromiumPath } from "../../src/report/pdf.ts";

const VARIABLE = "PLAYWRIGHT_CHROMIUM_EXECUTABLE";
const before = process.env[VARIABLE];
afterEach(() => {
  if (before === undefined) delete process.env[VARIABLE];
  else process.env[VARIABLE] = before;
});

describe("Chromium for the report PDF", () => {
  it("is Debian's unless configured, and a configured path is trimmed", () => {
    expect(loadConfig({}).chromiumExecutable).toBe("/usr/bin/chromium");
    expect(loadConfig({ [VARIABLE]: " /opt/chromium/chrome\n" }).chromiumExecutable).toBe("/opt/chromium/chrome");
  });

  it("is looked for where the environment says, and a missing one is named in the error", () => {
    process.env[VARIABLE] = "/nonexistent/sievert-test/chromium";
    expect(chromiumPath()).toBe("/nonexistent/sievert-test/chromium");
    expect(chromiumAvailable()).toBe(false);
    expect(new ChromiumMissingError().message).toContain("/nonexistent/sievert-test/chromium");
  });
});
