/**
 * Stand-alone entry for the generator until `sievert synth` is wired into the CLI:
 *
 *   npx tsx src/synth/main.ts --out sample-rdsr --seed 1 [--end-date 2025-11-28] [--days 91]
 *                             [--studies-per-device N] [--clean]
 */
import { parseArgs } from "node:util";
import { runSynth } from "./sample-set.ts";

const { values } = parseArgs({
  options: {
    out: { type: "string" },
    seed: { type: "string", default: "1" },
    "end-date": { type: "string" },
    days: { type: "string" },
    "studies-per-device": { type: "string" },
    clean: { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help || !values.out) {
  process.stdout.write("usage: tsx src/synth/main.ts --out DIR [--seed N] [--end-date YYYY-MM-DD] [--days N] [--studies-per-device N] [--clean]\n");
  process.exit(values.help ? 0 : 2);
}

const seedText = values.seed ?? "1";
const summary = await runSynth({
  outDir: values.out,
  seed: /^-?\d+$/.test(seedText) ? Number(seedText) : seedText,
  endDate: values["end-date"],
  days: values.days === undefined ? undefined : Number(values.days),
  studiesPerDevice: values["studies-per-device"] === undefined ? undefined : Number(values["studies-per-device"]),
  clean: values.clean,
});
process.stdout.write(`${summary}\n`);
