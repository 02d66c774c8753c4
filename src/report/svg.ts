/**
 * Server-side chart rendering: a dashboard's Vega-Lite spec plus rows → Vega (vega-lite
 * compile) → SVG text (vega View with no renderer, toSVG). No browser, no canvas: text widths
 * are estimated by vega, which is fine for print.
 */
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";

export type Row = Record<string, unknown>;

/** Replaces the named data of a spec by inline values (top level or facet). */
export function withRows(spec: object, rows: Row[]): TopLevelSpec {
  const copy = structuredClone(spec) as Record<string, unknown>;
  copy.data = { values: rows.map((r) => ({ ...r })) }; // vega tags and extends the tuples it is given
  delete copy.usermeta;
  return copy as unknown as TopLevelSpec;
}

export async function renderSvg(spec: object, rows: Row[], options: { title?: string } = {}): Promise<string> {
  const vl = withRows(spec, rows);
  if (options.title) (vl as unknown as Record<string, unknown>).title = options.title;
  const compiled = compile(vl).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
