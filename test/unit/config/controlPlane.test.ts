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
