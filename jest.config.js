/**
 * Three suites: unit (mocks, no cluster), render (real helm on real charts) and
 * e2e (real engine on the local cluster). ts-jest only transpiles (isolatedModules in tsconfig): `tsc --noEmit`
 * type-checks the whole project once, in `npm test`.
 */
const project = (name, extra = {}) => ({
    displayName: name,
    testEnvironment: "node",
    testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
    transform: { "^.+\\.ts$": ["ts-jest", {}] },
    // Local clusters' state (etcd keeps *.snap files, which jest would take for snapshots).
    modulePathIgnorePatterns: ["<rootDir>/\\.cluster", "<rootDir>/bin"],
    ...extra,
});

module.exports = {
    testTimeout: 60000,
    // The order scripts/test.sh gives each lane (ISTIO_MESH_SUITE_ORDER), else jest's own.
    testSequencer: "<rootDir>/test/support/sequencer.mjs",
    // The unit and render tests read Istio releases: made local once per run (mirror or download).
    projects: [
        project("unit", { globalSetup: "<rootDir>/test/support/releases.setup.ts" }),
        project("render", { globalSetup: "<rootDir>/test/support/releases.setup.ts" }),
        project("e2e"),
    ],
};
