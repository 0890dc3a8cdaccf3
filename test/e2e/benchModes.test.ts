// The benchmark's big-cluster mode (`npm run bench -- --scale --big-cluster`) run end
// to end at a tiny size on the test cluster, untimed: it creates pods the stack does
// not manage, deploys and previews the local stack beside them, calls the program's
// cluster reads, and removes everything it made. A mode that broke shows here, not
// on the day someone needs its figures. BENCH_DOC=none: the docs keep the figures of
// a real run.
import { execFileSync } from "child_process";
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
    PROJECT,
    projectDir,
} from "./harness";

jest.setTimeout(900_000);

const PODS = 30;
const PER_NAMESPACE = 10;
const OWN = 2;
const foreign = Array.from({ length: PODS / PER_NAMESPACE }, (_, j) => `foreign-${j}`);
const own = Array.from({ length: OWN }, (_, i) => `big-${i}`);
const suite = footprint(MESH_FOOTPRINT, GATEWAY_API_FOOTPRINT, {
    stacks: [[PROJECT, "bench-big"]],
    namespaces: [...foreign, ...own],
});

beforeAll(() => suite.assertCleanStart());
afterAll(() => suite.cleanUp(MESH_KEPT_ON_DESTROY), 300_000);

test("the big-cluster mode deploys, previews and reads beside pods the stack does not manage, and cleans up", () => {
    const out = execFileSync("node", [path.join(projectDir, "bin/scripts/bench-bigcluster.js")], {
        cwd: projectDir,
        encoding: "utf8",
        stdio: ["ignore", "pipe", "inherit"],
        env: {
            ...cliEnv(),
            BENCH_CLUSTER_DIR: clusterDir,
            BENCH_BIG_PODS: `0,${PODS}`,
            BENCH_BIG_N: String(OWN),
            BENCH_BIG_PODS_PER_NAMESPACE: String(PER_NAMESPACE),
            BENCH_DOC: "none",
        },
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
    // The stack's own workloads (and gateways) are injected by its istiod and use the
    // default revision; the foreign pods have no sidecar and are no revision's users.
    expect(rows[0].reads.revisionUsers.found).not.toBe("0 users");
    expect(rows[1].reads.revisionUsers.found).toBe(rows[0].reads.revisionUsers.found);
    expect(out).toContain(`| ${PODS} | ${PODS / PER_NAMESPACE} |`);
});
