// The benchmark's scale modes run end to end at tiny sizes on the test cluster,
// untimed: the big-cluster mode (`npm run bench -- --scale --big-cluster`) creates
// pods the stack does not manage, deploys and previews the stack beside them, calls
// the program's cluster reads, and removes everything it made; the migration mode
// (`--scale --migration`) moves workloads between two revisions in batches and
// against a kubectl loop. A mode that broke shows here, not on the day someone needs
// its figures. BENCH_DOC=none: the docs keep the figures of a real run. The mesh is
// small (BENCH_STACK_CONFIG): what the smoke checks is the mode, not the install,
// which the other suites check.
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    artifactsDir,
    cliEnv,
    clusterDir,
    footprint,
    GATEWAY_API_FOOTPRINT,
    MESH_FOOTPRINT,
    MESH_KEPT_ON_DESTROY,
    MINIMAL_MESH,
    PROJECT,
    projectDir,
} from "./harness";

jest.setTimeout(900_000);

const PODS = 30;
const PER_NAMESPACE = 10;
const OWN = 2;
const MIGRATED = 3;
const foreign = Array.from({ length: PODS / PER_NAMESPACE }, (_, j) => `foreign-${j}`);
const own = Array.from({ length: OWN }, (_, i) => `big-${i}`);
const suite = footprint(MESH_FOOTPRINT, GATEWAY_API_FOOTPRINT, {
    stacks: [
        [PROJECT, "bench-big"],
        [PROJECT, "bench-migration"],
    ],
    namespaces: [...foreign, ...own, "bench-migration"],
});

beforeAll(() => suite.assertCleanStart());
afterAll(() => suite.cleanUp(MESH_KEPT_ON_DESTROY), 300_000);

/**
 * Runs one benchmark script on the test cluster and returns what it printed. Its
 * progress goes whole to artifacts/<name>-smoke.log; a failure's message holds the
 * end of it, where a CI log shows it.
 */
function runBench(name: string, env: Record<string, string>): string {
    const run = spawnSync("node", [path.join(projectDir, `bin/scripts/${name}.js`)], {
        cwd: projectDir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "pipe"],
        maxBuffer: 64 * 1024 * 1024,
        env: { ...cliEnv(), BENCH_CLUSTER_DIR: clusterDir, BENCH_DOC: "none", ...env },
    });
    fs.writeFileSync(path.join(artifactsDir, `${name}-smoke.log`), run.stderr ?? "");
    if (run.status !== 0) {
        const tail = (run.stderr ?? "").trimEnd().split("\n").slice(-60).join("\n");
        throw new Error(`${name} exited ${run.status ?? run.signal}; the end of its output:\n${tail}`);
    }
    return run.stdout;
}

/** Settings as a stack file holds them: objects and lists as such, not as JSON text. */
function stackFileSettings(values: Record<string, string>): Record<string, unknown> {
    return Object.fromEntries(
        Object.entries(values).map(([key, value]) => {
            try {
                return [key, JSON.parse(value) as unknown];
            } catch {
                return [key, value];
            }
        }),
    );
}

test("the big-cluster mode deploys, previews and reads beside pods the stack does not manage, and cleans up", () => {
    const out = runBench("bench-bigcluster", {
        BENCH_BIG_PODS: `0,${PODS}`,
        BENCH_BIG_N: String(OWN),
        BENCH_BIG_PODS_PER_NAMESPACE: String(PER_NAMESPACE),
        BENCH_STACK_CONFIG: JSON.stringify(stackFileSettings(MINIMAL_MESH)),
    });
    fs.writeFileSync(path.join(artifactsDir, "bench-big-smoke.md"), out);
    const rows = JSON.parse(fs.readFileSync(path.join(artifactsDir, "bench-big.json"), "utf8")) as {
        pods: number;
        namespaces: number;
        up: number;
        noop: number;
        reads: Record<string, { found: string }>;
    }[];
    // One row per size, each with an up and a preview that ran.
    expect(rows.map((r) => [r.pods, r.namespaces])).toEqual([
        [0, 0],
        [PODS, PODS / PER_NAMESPACE],
    ]);
    for (const r of rows) {
        expect(r.up).toBeGreaterThan(0);
        expect(r.noop).toBeGreaterThan(0);
    }
    // The stack's own workloads (sidecarRollout, in its injection namespaces) are
    // restarted after their namespaces' labels and injected by its istiod: the
    // default revision's only users, as the small mesh has no gateways. The foreign
    // pods have no sidecar and are no revision's users.
    expect(rows.map((r) => r.reads.revisionUsers.found)).toEqual([`${OWN} users`, `${OWN} users`]);
    expect(out).toContain(`| ${PODS} | ${PODS / PER_NAMESPACE} |`);
});

test("the migration mode moves every workload to the new revision in batches, then times the kubectl loop on them", () => {
    // The mode itself fails unless every pod runs the new revision after the stack's `up`.
    const out = runBench("bench-migration", {
        BENCH_MIGRATION_SIZES: String(MIGRATED),
        BENCH_MIGRATION_BATCH: "2",
        BENCH_STACK_CONFIG: JSON.stringify({
            "istio-mesh:cni": { enabled: false },
            "istio-mesh:gatewayApi": { enabled: false },
        }),
    });
    fs.writeFileSync(path.join(artifactsDir, "bench-migration-smoke.md"), out);
    const row = out.split("\n").find((l) => l.startsWith(`| ${MIGRATED} |`));
    expect(row).toBeDefined();
    const cells = (row ?? "").split("|").map((c) => c.trim());
    // N, the stack's up (s) and the loop's (s): both ran and took time.
    expect(Number(cells[2])).toBeGreaterThan(0);
    expect(Number(cells[5])).toBeGreaterThan(0);
    expect(out).toContain("batch size 2");
});
