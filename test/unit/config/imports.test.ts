// components/config/ is a pure leaf whose modules import one another in one
// direction only: a circle makes the order in which Node evaluates them decide
// whether a constant is defined yet, and hides which module owns a type.
import * as fs from "fs";
import * as path from "path";

const CONFIG_DIR = path.resolve(__dirname, "../../../components/config");

/** Each module of the folder -> the modules of the folder it imports (types included). */
function importGraph(): Map<string, string[]> {
    const graph = new Map<string, string[]>();
    for (const file of fs.readdirSync(CONFIG_DIR).filter((f) => f.endsWith(".ts"))) {
        const source = fs.readFileSync(path.join(CONFIG_DIR, file), "utf8");
        const targets = [...source.matchAll(/^(?:import|export)[^;]*?from "\.\/([^"]+)";/gms)].map((m) => `${m[1]}.ts`);
        graph.set(file, targets);
    }
    return graph;
}

/** Every circle as the list of modules around it, starting at its alphabetically first module. */
function circles(graph: Map<string, string[]>): string[][] {
    const found = new Map<string, string[]>();
    const walk = (module: string, trail: string[]): void => {
        const at = trail.indexOf(module);
        if (at >= 0) {
            const loop = trail.slice(at);
            const start = loop.indexOf([...loop].sort()[0]);
            const canonical = [...loop.slice(start), ...loop.slice(0, start)];
            found.set(canonical.join(" -> "), canonical);
            return;
        }
        for (const next of graph.get(module) ?? []) walk(next, [...trail, module]);
    };
    for (const module of graph.keys()) walk(module, []);
    return [...found.values()];
}

test("the modules of components/config import one another without a circle", () => {
    const graph = importGraph();
    // The walk sees the folder's own modules: an empty graph would pass for nothing.
    expect(graph.get("parse.ts")).toContain("reader.ts");
    expect(circles(graph)).toEqual([]);
});
