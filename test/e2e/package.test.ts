// The package as an outside program uses it: `npm pack` of this repository, the
// tarball installed with npm into a new project in a temp directory, a TypeScript
// program there that imports `istio-mesh` (compiled against the installed type
// declarations, with the package's `exports`), and `pulumi preview` of it with
// the real CLI on the local cluster. Nothing in the temp project refers to this
// repository's sources.
import { EngineEvent } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { footprint, freshStack, GATEWAY_API_FOOTPRINT, MESH_FOOTPRINT, projectDir, stackExists } from "./harness";

jest.setTimeout(600_000);

const STACK = "e2e-package";
const VERSION = "1.29.6";
/** The program's project name (its Pulumi.yaml below). */
const CONSUMER = "mesh-consumer";

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
/** A preview creates nothing, but the mesh's checks read the cluster: nothing of a mesh may be there. */
const suite = footprint({ stacks: [[CONSUMER, STACK]] }, MESH_FOOTPRINT, GATEWAY_API_FOOTPRINT);

beforeAll(() => {
    suite.assertCleanStart();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "istio-mesh-consumer-"));
});

afterAll(() =>
    suite.cleanUp([
        [
            "remove the stack",
            async () => {
                const program = path.join(work, "program");
                // A preview leaves no resource: a removal without --force says so.
                if (stackExists(program, STACK)) await (await freshStack(program, STACK)).workspace.removeStack(STACK);
            },
        ],
        ["remove the temp project", () => fs.rmSync(work, { recursive: true, force: true })],
    ]),
);

test("a program outside the repository installs the packed package, compiles against its types and previews the mesh", async () => {
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
            "package/bin/components/mesh.d.ts",
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
        "name: mesh-consumer\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n" +
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

    const stack = await freshStack(program, STACK, {
        config: {
            "istio-mesh:version": { value: VERSION },
            "istio-mesh:profile": { value: "demo" },
        },
    });
    const creates: string[] = [];
    const errors: string[] = [];
    const preview = await stack.preview({
        onOutput: () => undefined,
        onEvent: (e: EngineEvent) => {
            const m = e.resourcePreEvent?.metadata;
            if (m?.op === "create") creates.push(m.urn);
            if (e.diagnosticEvent?.severity === "error") errors.push(e.diagnosticEvent.message);
        },
    });
    expect(errors).toEqual([]);
    // A URN is urn:pulumi:<stack>::<project>::<parent types, $-separated>$<type>::<name>;
    // chart children are named <chart resource>:<namespace>/<object>.
    const planned = (type: string, name: RegExp) =>
        creates.filter((urn) => {
            const [, , types, resourceName] = urn.split("::");
            return types.split("$").pop() === type && name.test(resourceName);
        });
    expect(planned("istio-mesh:index:IstioMesh", /^mesh$/)).toHaveLength(1);
    expect(planned("kubernetes:apps/v1:Deployment", /:istio-system\/istiod$/)).toHaveLength(1);
    expect(planned("kubernetes:apps/v1:Deployment", /:istio-system\/istio-ingressgateway$/)).toHaveLength(1);
    expect(planned("kubernetes:apps/v1:Deployment", /:istio-system\/kiali$/)).toHaveLength(1);
    expect(
        planned(
            "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
            /:virtualservices\.networking\.istio\.io$/,
        ),
    ).toHaveLength(1);
    expect(preview.changeSummary.create).toBeGreaterThan(50);
});
