#!/usr/bin/env node
// The `sievert` command: loads the TypeScript sources through tsx (no build step) and runs the CLI.
import { register } from "tsx/esm/api";

register();
const { main } = await import("./main.ts");
process.exitCode = await main(process.argv);
