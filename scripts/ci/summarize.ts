// CLI of scripts/ci/summary.ts for the CI scripts (scripts/ci/lib.sh):
//   summarize.js --kind K --stack S --exit-code N --events LOG --output TXT --markdown MD
//     writes MD and prints "<changes> <violations> <errors>";
//   summarize.js --list-changes --events LOG
//     prints one line per changed resource (the drift check's stderr).
import * as fs from "fs";
import * as path from "path";
import { changeLine, CiKind, markdown, parseEventLog, report } from "./summary";

function flag(name: string): string | undefined {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? process.argv[i + 1] : undefined;
}

function required(name: string): string {
    const v = flag(name);
    if (v === undefined) throw new Error(`summarize: --${name} is required`);
    return v;
}

function readIfExists(file: string): string {
    // A run stopped before the engine started (bad stack, no passphrase) leaves no log.
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
}

function main(): void {
    const r = report(parseEventLog(readIfExists(required("events"))));
    if (process.argv.includes("--list-changes")) {
        for (const c of r.changes) console.log(`  ${changeLine(c)}`);
        return;
    }
    const kind = required("kind");
    if (kind !== "preview" && kind !== "up" && kind !== "drift") {
        throw new Error(`summarize: --kind ${kind} is not one of preview, up, drift`);
    }
    const outputFile = required("output");
    const md = markdown({
        kind: kind as CiKind,
        stack: required("stack"),
        exitCode: Number(required("exit-code")),
        report: r,
        output: readIfExists(outputFile),
        outputFile: path.basename(outputFile),
    });
    fs.writeFileSync(required("markdown"), md);
    console.log(`${r.changes.length} ${r.violations.length} ${r.errors.length}`);
}

main();
