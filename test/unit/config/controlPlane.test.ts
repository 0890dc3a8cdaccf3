// version and environment: which Istio release the stack runs, and what the stack is.
import { ENVIRONMENTS, NEWEST_KNOWN_PATCH, SUPPORTED_MINORS } from "../../../components/config";
import { configParser } from "../configParser";

const { parse, problems } = configParser("1.29.6");

// Issue 22: a patch that does not exist is refused before any download, not found
// when the download fails.
describe("version: a release this project knows", () => {
    test.each([
        [
            { version: "1.29.60" },
            'istio-mesh:version: "1.29.60" is not a known Istio release; known 1.29 releases: 1.29.0 to 1.29.6 (a newer patch needs a newer istio-mesh, which knows it)',
        ],
        [
            { version: "1.30.4" },
            'istio-mesh:version: "1.30.4" is not a known Istio release; known 1.30 releases: 1.30.0 to 1.30.3 (a newer patch needs a newer istio-mesh, which knows it)',
        ],
        [
            { revisions: [{ name: "next", version: "1.28.99" }] },
            'istio-mesh:revisions[0].version: "1.28.99" is not a known Istio release; known 1.28 releases: 1.28.0 to 1.28.10 (a newer patch needs a newer istio-mesh, which knows it)',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("every patch from .0 to the newest known of each supported minor is accepted", () => {
        expect(Object.keys(NEWEST_KNOWN_PATCH)).toEqual([...SUPPORTED_MINORS]);
        for (const minor of SUPPORTED_MINORS) {
            for (const patch of [0, NEWEST_KNOWN_PATCH[minor]]) {
                expect(parse({ version: `${minor}.${patch}` }).version.text).toBe(`${minor}.${patch}`);
            }
        }
    });
});

// Issue 22: production and local are declared, not guessed from the stack's name.
describe("environment: what the stack declares itself to be", () => {
    test("unset by default; each environment is taken as written", () => {
        expect(parse({}).environment).toBeUndefined();
        for (const environment of ENVIRONMENTS) expect(parse({ environment }).environment).toBe(environment);
    });

    test.each([
        [
            { environment: "prod" },
            'istio-mesh:environment: "prod" is not an environment; allowed: production, development, local',
        ],
        [
            { environment: "Production" },
            'istio-mesh:environment: "Production" is not an environment; allowed: production, development, local',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});

describe("messages name the key, the value and what is allowed", () => {
    test.each([
        [
            { profile: "demoo" },
            'istio-mesh:profile: "demoo" is not a profile; allowed: default, demo, minimal, ambient, preview',
        ],
        [{ version: "1.29" }, 'istio-mesh:version: "1.29" is not a version; expected MAJOR.MINOR.PATCH such as 1.29.6'],
        [
            { version: "v1.29.6" },
            'istio-mesh:version: "v1.29.6" is not a version; expected MAJOR.MINOR.PATCH such as 1.29.6',
        ],
        [
            { version: "1.20.1" },
            'istio-mesh:version: "1.20.1" is not a supported release; supported minors: 1.28, 1.29, 1.30',
        ],
        [
            { upgradeStrategy: "blue-green" },
            'istio-mesh:upgradeStrategy: "blue-green" is not an upgrade strategy; allowed: in-place, canary',
        ],
        [
            { upgradeStrategy: "canary" },
            'istio-mesh:upgradeStrategy: "canary" needs istio-mesh:revision (or istio-mesh:revisions) set: canary control planes are told apart by revision',
        ],
        [
            { revision: "1.30.3" },
            'istio-mesh:revision: "1.30.3" is not a valid revision; use a DNS label of at most 56 characters such as 1-30-3 (not "default"), or "" for the default revision',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });
});
