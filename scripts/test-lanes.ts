// scripts/test.sh's helpers around jest: which end-to-end suites each lane runs
// (lanes side by side, each on a cluster of its own), the counts of a jest report,
// and the seconds each suite took, kept for the next run's lanes.
//
//   node bin/scripts/test-lanes.js lanes N SECONDS_FILE... -- SUITE...
//       one line per suite, "<lane> <suite>", lane 1..N, longest first within a lane
//   node bin/scripts/test-lanes.js counts REPORT
//       "<passed> <failed>" of a jest --json report; a suite that failed to run
//       (an error in a hook, a crash) counts as a failure even though it ran no test
//   node bin/scripts/test-lanes.js record OUT_FILE REPORT...
//       merges each suite's seconds from the reports into OUT_FILE
//
// Suite names are paths relative to the project (test/e2e/x.test.ts).
import * as fs from "fs";
import * as path from "path";

/** Seconds per suite. */
export type SuiteSeconds = Record<string, number>;

/**
 * Spreads the suites over `lanes` lanes so that the lanes take about equal time:
 * the longest known suite first, each to the lane with the least time so far. A
 * suite with no recorded time (a new one) is taken to last the median of the known
 * ones and goes, after them, to the shortest lane. Each lane lists its suites
 * longest first; empty lanes are dropped.
 */
export function assignLanes(suites: string[], seconds: SuiteSeconds, lanes: number): string[][] {
    if (!Number.isInteger(lanes) || lanes < 1) throw new Error(`lanes: ${lanes} is not a whole number of at least 1`);
    const known = suites
        .filter((s) => seconds[s] !== undefined)
        .sort((a, b) => seconds[b] - seconds[a] || (a < b ? -1 : 1));
    const unknown = suites.filter((s) => seconds[s] === undefined).sort();
    const times = known.map((s) => seconds[s]).sort((a, b) => a - b);
    const median = times.length > 0 ? times[Math.floor(times.length / 2)] : 1;
    const result = Array.from({ length: lanes }, () => ({ suites: [] as string[], total: 0 }));
    for (const suite of [...known, ...unknown]) {
        // The first of the shortest lanes, so the assignment is the same from run to run.
        const lane = result.reduce((min, l) => (l.total < min.total ? l : min));
        lane.suites.push(suite);
        lane.total += seconds[suite] ?? median;
    }
    return result.map((l) => l.suites).filter((l) => l.length > 0);
}

/** The seconds files merged, later files winning; a missing file is skipped, a malformed one is an error. */
export function readSeconds(files: string[]): SuiteSeconds {
    const merged: SuiteSeconds = {};
    for (const file of files) {
        if (!fs.existsSync(file)) continue;
        const data = JSON.parse(fs.readFileSync(file, "utf8")) as unknown;
        if (typeof data !== "object" || data === null || Array.isArray(data)) {
            throw new Error(`${file}: not a map of suite -> seconds`);
        }
        for (const [suite, value] of Object.entries(data)) {
            if (typeof value !== "number" || !(value >= 0))
                throw new Error(`${file}: ${suite}: ${value} is not seconds`);
            merged[suite] = value;
        }
    }
    return merged;
}

/** The part of jest's --json report these helpers read. */
interface JestReport {
    numPassedTests: number;
    numFailedTests: number;
    numRuntimeErrorTestSuites: number;
    testResults: { name: string; status: string; startTime?: number; endTime?: number }[];
}

function readReport(file: string): JestReport {
    const r = JSON.parse(fs.readFileSync(file, "utf8")) as JestReport;
    if (typeof r.numPassedTests !== "number" || !Array.isArray(r.testResults)) {
        throw new Error(`${file} is not a jest --json report`);
    }
    return r;
}

/** Passed and failed of a report; a suite that failed to run (numRuntimeErrorTestSuites) is one failure more. */
export function reportCounts(report: JestReport): { passed: number; failed: number } {
    return { passed: report.numPassedTests, failed: report.numFailedTests + report.numRuntimeErrorTestSuites };
}

/** Each suite's wall seconds in a report, by path relative to `projectDir`. */
export function reportSeconds(report: JestReport, projectDir: string): SuiteSeconds {
    const seconds: SuiteSeconds = {};
    for (const t of report.testResults) {
        if (t.startTime !== undefined && t.endTime !== undefined && t.endTime > t.startTime) {
            seconds[path.relative(projectDir, t.name)] = Math.round((t.endTime - t.startTime) / 100) / 10;
        }
    }
    return seconds;
}

function main(argv: string[]): void {
    const [command, ...args] = argv;
    const projectDir = path.resolve(__dirname, "../..");
    if (command === "lanes") {
        const separator = args.indexOf("--");
        if (separator < 1) throw new Error("usage: lanes N SECONDS_FILE... -- SUITE...");
        const lanes = assignLanes(args.slice(separator + 1), readSeconds(args.slice(1, separator)), Number(args[0]));
        lanes.forEach((suites, i) => suites.forEach((s) => console.log(`${i + 1} ${s}`)));
    } else if (command === "counts" && args.length === 1) {
        const { passed, failed } = reportCounts(readReport(args[0]));
        console.log(`${passed} ${failed}`);
    } else if (command === "record" && args.length >= 2) {
        const [out, ...reports] = args;
        const seconds = readSeconds([out]);
        for (const r of reports) Object.assign(seconds, reportSeconds(readReport(r), projectDir));
        const sorted = Object.fromEntries(Object.entries(seconds).sort(([a], [b]) => (a < b ? -1 : 1)));
        fs.writeFileSync(out, JSON.stringify(sorted, null, 2) + "\n");
    } else {
        throw new Error("usage: test-lanes lanes N SECONDS_FILE... -- SUITE... | counts REPORT | record OUT REPORT...");
    }
}

if (require.main === module) {
    try {
        main(process.argv.slice(2));
    } catch (e) {
        console.error(`test-lanes: ${e instanceof Error ? e.message : String(e)}`);
        process.exit(2);
    }
}
