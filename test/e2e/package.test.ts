// The package as an outside program uses it: `npm pack` of this repository, the
// tarball installed with npm into a new project in a temp directory, a TypeScript
// program there that imports `istio-mesh` (compiled against the installed type
// declarations, with the package's `exports`), and `pulumi up` and `destroy` of it
// with the real CLI on the local cluster, the kubeconfig given only as
// `kubernetes:kubeconfig` stack config, as CI gives it: its contents, on one line
// (JSON), a secret. The program's own client (the webhook probe, the sidecar
// migration) must find the cluster from that setting, and the state must hold the
// kubeconfig encrypted only. Nothing in the temp project refers to this
// repository's sources.
import { EngineEvent, LocalWorkspace, Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    deleteNamespaces,
    destroyAndRemove,
    exportedState,
    footprint,
    freshStack,
    GATEWAY_API_FOOTPRINT,
    kubeconfig,
    kubectl,
    kubectlJson,
    MESH_FOOTPRINT,
    MESH_KEPT_ON_DESTROY,
    MINIMAL_MESH,
    projectDir,
} from "./harness";

jest.setTimeout(900_000);

const STACK = "e2e-package";
const VERSION = "1.29.6";
/** A namespace the example enrolls with restartOnChange, so that the sidecar migration's resource holds the kubeconfig. */
const APPS = "package-apps";
/** The signature Pulumi gives a secret value in the state. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** The version this repository has installed, so npm finds it in its cache. */
const installedVersion = (name: string) =>
    (
        JSON.parse(fs.readFileSync(path.join(projectDir, "node_modules", name, "package.json"), "utf8")) as {
            version: string;
        }
    ).version;

const PROGRAM = `import * as pulumi from "@pulumi/pulumi";
import { IstioMesh, IstioMeshArgs, parseStackConfig, projectConfigKeys, resolveReleaseData } from "istio-mesh";

export = async () => {
    const parsed = parseStackConfig(projectConfigKeys(pulumi.runtime.allConfig()), __dirname);
    const { config } = await resolveReleaseData(parsed, { baseDir: __dirname });
    const args: IstioMeshArgs = { config };
    const mesh = new IstioMesh("mesh", args);
    return { version: mesh.version, components: mesh.components.map((c) => c.component) };
};
`;

let work: string;
let stack: Stack | undefined;

/** The consumer program's Pulumi project (its Pulumi.yaml below). */
const CONSUMER_PROJECT = "mesh-consumer";
const suite = footprint(
    { stacks: [[CONSUMER_PROJECT, STACK]], namespaces: [APPS] },
    MESH_FOOTPRINT,
    GATEWAY_API_FOOTPRINT,
);

beforeAll(() => {
    suite.assertCleanStart();
    kubectl("create", "namespace", APPS);
    work = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-consumer-"));
});

afterAll(async () => {
    await suite.cleanUp([
        ["destroy and remove the consumer's stack", () => destroyAndRemove(stack)],
        ...MESH_KEPT_ON_DESTROY,
        ["delete the namespace made by hand", () => deleteNamespaces(APPS)],
        ["remove the consumer's folder", () => work && fs.rmSync(work, { recursive: true, force: true })],
    ]);
}, 900_000);

test("a program outside the repository installs the packed package, compiles against its types, and installs and removes the mesh with the kubeconfig only in stack config", async () => {
    // The tarball, as `npm publish` would upload it, of the build the suites run (npm test
    // builds first; --ignore-scripts skips `prepare`, a second build of the same sources).
    const tarball = path.join(
        work,
        execFileSync("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", work], {
            cwd: projectDir,
            encoding: "utf8",
        })
            .trim()
            .split("\n")
            .pop() as string,
    );
    const packed = execFileSync("tar", ["tzf", tarball], { encoding: "utf8" }).split("\n");
    expect(packed).toEqual(
        expect.arrayContaining([
            "package/package.json",
            "package/bin/components/index.js",
            "package/bin/components/index.d.ts",
            "package/bin/components/prepare.d.ts",
            "package/bin/components/istioMesh.d.ts",
        ]),
    );
    // The library only: not this repository's program, scripts, tests or TypeScript sources.
    expect(packed.filter((f) => /^package\/(bin\/index\.js|bin\/scripts|test|components|index\.ts)/.test(f))).toEqual(
        [],
    );

    const program = path.join(work, "program");
    fs.mkdirSync(program);
    const write = (file: string, text: string) => fs.writeFileSync(path.join(program, file), text);
    write(
        "package.json",
        JSON.stringify({
            name: "mesh-consumer",
            private: true,
            main: "index.js",
            dependencies: {
                "istio-mesh": `file:${tarball}`,
                // A Pulumi program has the SDK itself; the same version as the package's, so one copy is installed.
                "@pulumi/pulumi": installedVersion("@pulumi/pulumi"),
            },
            devDependencies: { "@types/node": installedVersion("@types/node") },
        }),
    );
    // Not tsconfig.json: the Node.js language host would hand that to its own ts-node (7.x,
    // which knows no node16), though the program it runs is the compiled JavaScript.
    write(
        "tsconfig.build.json",
        JSON.stringify({
            compilerOptions: { strict: true, target: "ES2020", module: "node16", moduleResolution: "node16" },
            files: ["index.ts"],
        }),
    );
    write("index.ts", PROGRAM);
    write(
        "Pulumi.yaml",
        `name: ${CONSUMER_PROJECT}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n` +
            "config:\n  kubernetes:enableConfigMapMutable: true\n",
    );
    execFileSync("npm", ["install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"], {
        cwd: program,
        stdio: ["ignore", "pipe", "pipe"],
    });
    // Installed from the tarball: a copy in node_modules, not a link to this repository.
    const installed = path.join(program, "node_modules", "istio-mesh");
    expect(fs.lstatSync(installed).isSymbolicLink()).toBe(false);
    expect(fs.existsSync(path.join(installed, "components"))).toBe(false);

    // Type-checked against the installed declarations; a wrong import or Args type fails here.
    execFileSync(
        path.join(projectDir, "node_modules", ".bin", "tsc"),
        ["-p", path.join(program, "tsconfig.build.json")],
        { encoding: "utf8" },
    );
    expect(fs.existsSync(path.join(program, "index.js"))).toBe(true);

    // The local cluster's kubeconfig with its credentials inlined, on one line: what a CI secret holds.
    const contents = JSON.stringify(
        JSON.parse(
            execFileSync(
                "kubectl",
                ["config", "view", "--raw", "--flatten", "-o", "json", "--kubeconfig", kubeconfig],
                { encoding: "utf8" },
            ),
        ),
    );
    expect(contents).not.toContain("\n");
    const clientKey = (JSON.parse(contents) as { users: { user: Record<string, string> }[] }).users[0].user[
        "client-key-data"
    ];
    expect(clientKey.length).toBeGreaterThan(100);

    stack = await freshStack(program, STACK, {
        config: {
            "kubernetes:kubeconfig": { value: contents, secret: true },
            "istio-mesh:version": { value: VERSION },
            ...Object.fromEntries(Object.entries(MINIMAL_MESH).map(([k, v]) => [k, { value: v }])),
            "istio-mesh:injectionNamespaces": { value: JSON.stringify([{ name: APPS, restartOnChange: true }]) },
        },
    });
    // No default kubeconfig to fall back on ($KUBECONFIG names a missing file, so not
    // ~/.kube/config either): only the stack config names the cluster.
    (stack.workspace as LocalWorkspace).envVars.KUBECONFIG = path.join(work, "no-such-kubeconfig");
    const errors: string[] = [];
    const onEvent = (e: EngineEvent) => {
        if (e.diagnosticEvent?.severity === "error") errors.push(e.diagnosticEvent.message);
    };
    const up = await stack.up({ onOutput: () => undefined, onEvent });
    expect(errors).toEqual([]);
    expect(up.summary.result).toBe("succeeded");
    // On the cluster: istiod, and the enrolled namespace labelled.
    expect(kubectlJson("deployment", "istiod", "-n", "istio-system").status.readyReplicas).toBe(1);
    const labels = kubectlJson("namespace", APPS).metadata.labels as Record<string, string>;
    expect(Object.keys(labels).filter((l) => l === "istio-injection" || l === "istio.io/rev")).toHaveLength(1);

    // In the state: the kubeconfig only as ciphertext, in the provider's inputs and in the migration's.
    const text = exportedState(program, STACK);
    const state = JSON.parse(text) as { deployment: unknown };
    expect(text).not.toContain(clientKey);
    expect(text).not.toContain(clientKey.slice(0, 40));
    const resources = (
        state.deployment as {
            resources: { type: string; inputs?: Record<string, unknown>; outputs?: Record<string, unknown> }[];
        }
    ).resources;
    const provider = resources.find((r) => r.type === "pulumi:providers:kubernetes");
    expect(provider?.inputs?.kubeconfig).toMatchObject({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270" });
    const migration = resources.find(
        (r) => r.type.endsWith(":SidecarMigration") && JSON.stringify(r.inputs).includes(APPS),
    );
    expect(migration?.inputs?.cluster).toMatchObject({ [SECRET_SIG]: "1b47061264138c4ac30d75fd1eb44270" });
    expect(migration?.outputs?.cluster).toBeUndefined();

    const destroy = await stack.destroy({ onOutput: () => undefined, onEvent });
    expect(errors).toEqual([]);
    expect(destroy.summary.result).toBe("succeeded");
    expect(kubectl("get", "deployment", "istiod", "-n", "istio-system", "--ignore-not-found")).toBe("");
});
