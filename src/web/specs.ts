/**
 * The dashboards: Vega-Lite specs in dashboards/<name>.vl.json. Each carries its page metadata
 * in `usermeta.sievert` (title, the question it answers, the API it reads, its filters, the
 * drill-down mapping from a clicked datum to filters, and the columns of its data table).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const DASHBOARD_DIR = fileURLToPath(new URL("../../dashboards", import.meta.url));

export type FilterName = "trust" | "device" | "modality" | "exam" | "period" | "quantity";

export interface TableColumn {
  field: string;
  title: string;
  /** int, num (3 significant figures), ratio (2 decimals), pct, short (first clause), datetime */
  format?: "int" | "num" | "ratio" | "pct" | "short" | "datetime";
  /** Column holding the unit of this value, shown in the cell. */
  unitField?: string;
}

export interface DashboardMeta {
  order: number;
  title: string;
  question: string;
  /** dateFormat "month": the API takes from/to as YYYY-MM (repeats). */
  source: { path: string; params: Record<string, string>; dateFormat?: "day" | "month" };
  filters: FilterName[];
  /** Only the main quantity per exam unless a quantity is chosen. */
  primaryQuantity?: boolean;
  /** Drill-down parameter → datum field. */
  drilldown: Record<string, string>;
  notes?: string;
  emptyMessage?: string;
  /** For sources without from/to filters: the date field the period filter is applied to here. */
  periodField?: string;
  /** Column listing the reference (e.g. DRL) sources, shown under the table. */
  sourcesField?: string;
  /** A row adapter of src/web/data.ts (ROW_ADAPTERS) applied to the source's rows (e.g. expected-fields). */
  adapter?: string;
  /**
   * A second link per table row, e.g. the device's JSON report: href with {field} placeholders
   * filled from the row (no link when one is empty), the page's API filters appended.
   */
  detailLink?: { label: string; href: string };
  /**
   * A dashboard of counts answering the same question without patient-level rows: shown instead
   * (with a link) to a sign-in whose role may not read this one's source (committee and alerts).
   */
  aggregateAlternative?: string;
  table: TableColumn[];
}

export interface Dashboard {
  name: string;
  meta: DashboardMeta;
  /** The Vega-Lite spec as stored (usermeta included). */
  spec: Record<string, unknown>;
}

let cache: Dashboard[] | null = null;

export function loadDashboards(dir = DASHBOARD_DIR): Dashboard[] {
  if (cache && dir === DASHBOARD_DIR) return cache;
  const list = readdirSync(dir)
    .filter((f) => f.endsWith(".vl.json"))
    .map((f) => {
      const spec = JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown>;
      const meta = (spec.usermeta as { sievert?: DashboardMeta } | undefined)?.sievert;
      if (!meta) throw new Error(`${f}: usermeta.sievert is missing`);
      return { name: f.replace(/\.vl\.json$/, ""), meta, spec };
    })
    .sort((a, b) => a.meta.order - b.meta.order);
  if (dir === DASHBOARD_DIR) cache = list;
  return list;
}

export function getDashboard(name: string): Dashboard | undefined {
  return loadDashboards().find((d) => d.name === name);
}
