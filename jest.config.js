/** Three suites: unit (mocks, no cluster), render (real helm on real charts), e2e (real engine, local cluster). */
const project = (name, extra = {}) => ({
    displayName: name,
    preset: "ts-jest",
    testEnvironment: "node",
    testMatch: [`<rootDir>/test/${name}/**/*.test.ts`],
    ...extra,
});

module.exports = {
    projects: [project("unit"), project("render"), project("e2e")],
};
