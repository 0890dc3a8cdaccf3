// Draws the scale benchmark's figures (artifacts/bench-scale.json, written by
// scripts/bench-scale.ts) as an SVG chart with Vega-Lite: seconds per operation and
// the program's peak memory against the number of namespaces and workloads.
// ESM because Vega is published as ES modules only.
//
// Usage: node scripts/plot-scale.mjs IN.json OUT.svg
import { readFileSync, writeFileSync } from "node:fs";
import * as vega from "vega";
import * as vl from "vega-lite";

const [input, output] = process.argv.slice(2);
if (!input || !output) {
    console.error("usage: node scripts/plot-scale.mjs IN.json OUT.svg");
    process.exit(2);
}
/** @type {{ n: number; up: number; noop: number; upgrade: number; peakMiB: number }[]} */
const rows = JSON.parse(readFileSync(input, "utf8"));
const seconds = rows.flatMap((r) => [
    { n: r.n, operation: "pulumi up (fresh)", seconds: r.up },
    { n: r.n, operation: "preview (no-op)", seconds: r.noop },
    { n: r.n, operation: "preview (upgrade)", seconds: r.upgrade },
]);
const x = { field: "n", type: "quantitative", title: "namespaces = workloads = nodes (N)" };
const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    hconcat: [
        {
            title: "wall time",
            width: 360,
            height: 240,
            data: { values: seconds },
            mark: { type: "line", point: true },
            encoding: {
                x,
                y: { field: "seconds", type: "quantitative", title: "seconds" },
                color: { field: "operation", type: "nominal" },
            },
        },
        {
            title: "peak memory of the program during up",
            width: 240,
            height: 240,
            data: { values: rows },
            mark: { type: "line", point: true },
            encoding: { x, y: { field: "peakMiB", type: "quantitative", title: "MiB" } },
        },
    ],
};
const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: "none" });
writeFileSync(output, await view.toSVG());
console.log(`wrote ${output}`);
