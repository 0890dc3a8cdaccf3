// scripts/test-lanes.ts: how scripts/test.sh spreads the end-to-end suites over
// lanes and counts a jest report.
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { assignLanes, readSeconds, reportCounts, reportSeconds } from "../../scripts/test-lanes";

const total = (lane: string[], seconds: Record<string, number>) => lane.reduce((t, s) => t + seconds[s], 0);

describe("assignLanes", () => {
    const seconds = { a: 250, b: 140, c: 120, d: 90, e: 85, f: 45, g: 30, h: 25 };
    const suites = Object.keys(seconds);

    test("two lanes within the longest suite's reach of each other, every suite once", () => {
        const lanes = assignLanes(suites, seconds, 2);
        expect(lanes).toHaveLength(2);
        expect(lanes.flat().sort()).toEqual(suites);
        const [one, two] = lanes.map((l) => total(l, seconds));
        expect(Math.abs(one - two)).toBeLessThanOrEqual(25);
        // Longest first in each lane.
        for (const lane of lanes)
            expect(lane.map((s) => seconds[s as keyof typeof seconds])).toEqual(
                [...lane.map((s) => seconds[s as keyof typeof seconds])].sort((x, y) => y - x),
            );
    });

    test("one lane runs everything, longest first", () => {
        expect(assignLanes(suites, seconds, 1)).toEqual([suites]);
    });

    test("a suite with no recorded time goes to the shorter lane", () => {
        const lanes = assignLanes(["a", "b", "new"], { a: 100, b: 30 }, 2);
        expect(lanes).toEqual([["a"], ["b", "new"]]);
    });

    test("new suites are spread, not piled onto one lane", () => {
        const lanes = assignLanes(["x", "y", "z", "w"], {}, 2);
        expect(lanes.map((l) => l.length)).toEqual([2, 2]);
    });

    test("more lanes than suites: no empty lane", () => {
        expect(assignLanes(["a"], { a: 1 }, 3)).toEqual([["a"]]);
    });

    test.each([0, -1, 1.5, NaN])("%p lanes is refused", (n) => {
        expect(() => assignLanes(["a"], {}, n)).toThrow(`lanes: ${n} is not a whole number of at least 1`);
    });
});

describe("reports and seconds", () => {
    const report = {
        numPassedTests: 7,
        numFailedTests: 1,
        numRuntimeErrorTestSuites: 1,
        testResults: [
            { name: "/p/test/e2e/a.test.ts", status: "passed", startTime: 1000, endTime: 251_000 },
            { name: "/p/test/e2e/b.test.ts", status: "failed", startTime: 0, endTime: 0 },
        ],
    };

    test("a suite that failed to run counts as a failure", () => {
        expect(reportCounts(report)).toEqual({ passed: 7, failed: 2 });
    });

    test("each suite's seconds, by path relative to the project; a suite that did not run has none", () => {
        expect(reportSeconds(report, "/p")).toEqual({ "test/e2e/a.test.ts": 250 });
    });

    test("seconds files merge, later ones winning; a missing file is skipped, a malformed one named", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-lanes-"));
        try {
            const file = (name: string, text: string) => {
                fs.writeFileSync(path.join(dir, name), text);
                return path.join(dir, name);
            };
            const a = file("a.json", JSON.stringify({ x: 1, y: 2 }));
            const b = file("b.json", JSON.stringify({ y: 3 }));
            expect(readSeconds([a, path.join(dir, "missing.json"), b])).toEqual({ x: 1, y: 3 });
            const bad = file("bad.json", JSON.stringify({ x: "slow" }));
            expect(() => readSeconds([bad])).toThrow(`${bad}: x: slow is not seconds`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
