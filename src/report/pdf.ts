/**
 * Headless Chromium (Debian's, installed by .ci/install-system-deps) through playwright-core:
 * HTML → PDF. PLAYWRIGHT_CHROMIUM_EXECUTABLE (src/config) overrides /usr/bin/chromium.
 */
import { existsSync } from "node:fs";
import type { Browser } from "playwright-core";
import { loadConfig } from "../config/index.ts";

export const CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run"];

export function chromiumPath(): string {
  return loadConfig().chromiumExecutable;
}

export function chromiumAvailable(): boolean {
  return existsSync(chromiumPath());
}

export class ChromiumMissingError extends Error {
  constructor() {
    super(`Chromium is not installed at ${chromiumPath()}: run .ci/install-system-deps, or set PLAYWRIGHT_CHROMIUM_EXECUTABLE`);
  }
}

export async function launchChromium(): Promise<Browser> {
  if (!chromiumAvailable()) throw new ChromiumMissingError();
  const { chromium } = await import("playwright-core");
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}

/** Prints self-contained HTML to an A4 PDF (page numbers in the footer). */
export async function htmlToPdf(htmlText: string, options: { browser?: Browser; footer?: string } = {}): Promise<Buffer> {
  const browser = options.browser ?? (await launchChromium());
  try {
    const page = await browser.newPage();
    try {
      // Self-contained: nothing to fetch, so block every request the page might try.
      await page.route("**/*", (route) => route.abort());
      await page.setContent(htmlText, { waitUntil: "load" });
      return await page.pdf({
        format: "A4",
        printBackground: true,
        margin: { top: "14mm", bottom: "16mm", left: "12mm", right: "12mm" },
        displayHeaderFooter: true,
        headerTemplate: "<span></span>",
        footerTemplate: `<div style="font:8px system-ui,sans-serif;color:#444;width:100%;padding:0 12mm;display:flex;justify-content:space-between"><span>${(options.footer ?? "Sievert committee report").replace(/</g, "&lt;")}</span><span>page <span class="pageNumber"></span> of <span class="totalPages"></span></span></div>`,
      });
    } finally {
      await page.close();
    }
  } finally {
    if (!options.browser) await browser.close();
  }
}

/** Pages in a PDF: its /Type /Page objects (not /Pages). */
export function countPdfPages(pdf: Uint8Array): number {
  const text = Buffer.from(pdf).toString("latin1");
  return (text.match(/\/Type\s*\/Page(?![a-zA-Z])/g) ?? []).length;
}
