// The application stack on a mesh stack, with the real Pulumi CLI and the real
// istiod: the mesh injects the workloads, istiod's webhook judges every Istio
// route (and refuses a broken one with its own message), istiod's Gateway API
// controller accepts the HTTPRoutes, `istioctl analyze` finds nothing, and the
// app's destroy leaves the mesh as it was. Pods are simulated (KWOK): no request
// is ever routed, so this proves configuration, not traffic.
import { Stack } from "@pulumi/pulumi/automation";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as yaml from "js-yaml";
import * as path from "path";
import { virtualServiceSpec } from "../../examples/app/traffic/istioSpecs";
import { meshHttpRouteSpec } from "../../examples/app/traffic/gatewayApiSpecs";
import { readServiceRoute, TrafficReader } from "../../examples/app/traffic/validate";
import { ServiceRoute } from "../../examples/app/traffic/types";
import {
    deleteNamespaces,
    destroyAndRemove,
    exists,
    footprint,
    freshStack,
    GATEWAY_API_FOOTPRINT,
    istioctl,
    kubeconfig,
    kubectl,
    kubectlJson,
    localStackConfig,
    MESH_FOOTPRINT,
    MESH_KEPT_ON_DESTROY,
    NO_ADDONS,
    PROJECT,
    projectDir,
    releaseMirror,
    setConfigValues,
    waitFor,
} from "./harness";
import { clustersOf, podOf, simulate, SimAnswer, STANDIN_ANNOTATION, syncedStandin } from "./proxy";

jest.setTimeout(900_000);

const MESH_STACK = "e2e-appmesh";
const APP_STACK = "e2e-app";
const NS = "bookinfo";
const appDir = path.join(projectDir, "examples/app");
/** The Gateway API release Istio 1.29 is built against; the mesh stack does not install it yet. */
const GATEWAY_API_CRDS = () => path.join(releaseMirror(), "gateway-api/v1.4.1/standard-install.yaml");
const quiet = { onOutput: () => undefined };

const DEPLOYMENTS = [
    "details-v1",
    "productpage-v1",
    "ratings-v1",
    "reviews-v1",
    "reviews-v2",
    "reviews-v3",
    "hello-v1",
    "hello-v2",
];

/** The runbook's rules without what the Gateway API's standard channel cannot say (retries, faults). */
const GATEWAY_API_ROUTES = [
    {
        service: "reviews",
        port: 9080,
        versions: ["v1", "v2", "v3"],
        weights: { v1: 90, v2: 10 },
        canary: { header: "lab", value: "canary", version: "v3" },
        timeout: "500ms",
    },
    {
        service: "hello",
        port: 5000,
        versions: ["v1", "v2"],
        canary: { header: "lab", value: "canary", version: "v2" },
        timeout: "1.5s",
    },
];

/** The ingress paths of the app's stack file: each must reach productpage through the ingress gateway. */
function configuredIngressPaths(): { path: string; match: "exact" | "prefix"; service: string; port: number }[] {
    const file = yaml.load(fs.readFileSync(path.join(appDir, "Pulumi.local.yaml"), "utf8")) as {
        config: Record<string, { paths: { path: string; match: "exact" | "prefix"; service: string; port: number }[] }>;
    };
    return file.config["istio-mesh-app:ingress"].paths;
}

/** A proxy stand-in for the first running pod of `selector` (opt-in annotation on the live pod); its dump once synced. */
async function standinDump(namespace: string, selector: string, ready?: (dump: string) => boolean): Promise<string> {
    const pod = podOf(namespace, selector);
    kubectl("annotate", "pod", pod, "-n", namespace, `${STANDIN_ANNOTATION}=true`, "--overwrite");
    const s = await syncedStandin(namespace, pod, 90, (st) => (ready ? ready(st.dumpFile) : true));
    return s.dumpFile;
}

/** Where the ingress gateway sends each configured path: [path, cluster] pairs, and what it does one level below an exact path. */
function ingressRouting(gatewayDump: string): { routed: [string, string[]][]; belowExact: SimAnswer } {
    const paths = configuredIngressPaths();
    const at = (p: string) =>
        simulate(gatewayDump, { direction: "gateway", port: 80, host: "bookinfo.example.com", path: p });
    const routed = paths.flatMap((p): [string, string[]][] => {
        const probes = p.match === "exact" ? [p.path] : [p.path, `${p.path}/x`];
        return probes.map((probe) => [probe, (at(probe).clusters ?? []).map((c) => c.name)]);
    });
    const exact = paths.find((p) => p.match === "exact");
    return { routed, belowExact: at(`${exact?.path ?? "/productpage"}/x`) };
}

const PRODUCTPAGE_CLUSTER = `outbound|9080||productpage.${NS}.svc.cluster.local`;

let mesh: Stack;
let app: Stack;

const failureOf = (operation: Promise<unknown>): Promise<Error | undefined> =>
    operation.then(
        () => undefined,
        (e: Error) => e,
    );

/** kubectl apply of a manifest: its stderr when refused, undefined when accepted. */
function applyRefusal(manifest: object): string | undefined {
    try {
        execFileSync("kubectl", ["--kubeconfig", kubeconfig, "apply", "-f", "-"], {
            input: JSON.stringify(manifest),
            stdio: ["pipe", "pipe", "pipe"],
        });
        return undefined;
    } catch (e) {
        return String((e as { stderr: Buffer }).stderr);
    }
}

function names(kind: string, namespace: string): string[] {
    return kubectlJson(kind, "-n", namespace)
        .items.map((o: { metadata: { name: string } }) => o.metadata.name)
        .sort();
}

/** What the mesh stack owns in the cluster, by name: kept by the app's destroy. */
function meshSnapshot(): Record<string, string[]> {
    return {
        deployments: names("deployments", "istio-system"),
        services: names("services", "istio-system"),
        configmaps: names("configmaps", "istio-system"),
        daemonsets: names("daemonsets", "kube-system"),
        crds: kubectlJson("customresourcedefinitions")
            .items.map((c: { metadata: { name: string } }) => c.metadata.name)
            .sort(),
        webhooks: [
            ...kubectlJson("validatingwebhookconfigurations").items,
            ...kubectlJson("mutatingwebhookconfigurations").items,
        ]
            .map((w: { metadata: { name: string } }) => w.metadata.name)
            .sort(),
        injectionLabel: [kubectlJson("namespace", NS).metadata.labels["istio-injection"] ?? ""],
    };
}

/** A route of the runbook's, read and checked as the components read it. */
function checkedRoute(input: object, api: "istio" | "gateway-api"): ServiceRoute {
    const r = new TrafficReader();
    const route = readServiceRoute(r, "route", input, api);
    expect(r.problems).toEqual([]);
    return route as ServiceRoute;
}

const suite = footprint(
    {
        stacks: [
            [PROJECT, MESH_STACK],
            ["istio-mesh-app", APP_STACK],
        ],
        namespaces: [NS],
    },
    MESH_FOOTPRINT,
    GATEWAY_API_FOOTPRINT,
);

beforeAll(async () => {
    suite.assertCleanStart();
    // A Gateway API install as Istio's docs do it, before istiod starts.
    kubectl("apply", "--server-side", "-f", GATEWAY_API_CRDS());
    kubectl("create", "namespace", NS);
    mesh = await freshStack(projectDir, MESH_STACK, {
        configFile: path.join(projectDir, "Pulumi.local.yaml"),
        config: { "istio-mesh:injectionNamespaces": { value: JSON.stringify([NS]) } },
    });
    // The applications need istiod and the ingress gateway: the addons, CNI and the
    // egress gateway are not this suite's to test, and would only make it slower.
    const gateways = localStackConfig()["istio-mesh:gateways"] as { kind: string }[];
    await setConfigValues(mesh, {
        "istio-mesh:gateways": JSON.stringify(gateways.filter((g) => g.kind === "ingress")),
        "istio-mesh:cni": JSON.stringify({ enabled: false }),
        "istio-mesh:addons": NO_ADDONS,
    });
    const up = await mesh.up(quiet);
    expect(up.summary.result).toBe("succeeded");

    app = await freshStack(appDir, APP_STACK, {
        configFile: path.join(appDir, "Pulumi.local.yaml"),
        config: { "istio-mesh-app:meshStack": { value: `organization/istio-mesh/${MESH_STACK}` } },
    });
}, 900_000);

afterAll(
    () =>
        suite.cleanUp([
            ["destroy and remove the app stack", () => destroyAndRemove(app)],
            ["destroy and remove the mesh stack", () => destroyAndRemove(mesh)],
            // With the Gateway API CRDs this suite applied by hand.
            ...MESH_KEPT_ON_DESTROY,
            [`delete namespace ${NS}`, () => deleteNamespaces(NS)],
        ]),
    900_000,
);

describe("the application stack on the mesh stack", () => {
    test("1. a namespace the mesh does not inject is refused before anything is created, naming the fix", async () => {
        await app.setConfig("istio-mesh-app:namespace", { value: "default" });
        const err = await failureOf(app.up(quiet));
        expect(String(err)).toContain(
            `istio-mesh-app:namespace: "default" is not labelled for sidecar injection by the mesh stack organization/istio-mesh/${MESH_STACK} (its injectionNamespaces: bookinfo); add it to istio-mesh:injectionNamespaces there and run \`pulumi up\` on the mesh first, or use one of those`,
        );
        expect(names("deployments", "default")).toEqual([]);
        expect(names("virtualservices", "default")).toEqual([]);
        await app.setConfig("istio-mesh-app:namespace", { value: NS });
    });

    test("2. Istio APIs: the workloads come back injected, every route passes istiod's webhook, a broken one is refused with istiod's message, analyze finds nothing", async () => {
        const up = await app.up(quiet);
        expect(up.summary.result).toBe("succeeded");
        expect(up.outputs.meshVersion.value).toBe("1.29.6");
        expect(up.outputs.meshRevision.value).toBe("default");

        // Injected by the real istiod: the proxy container and its status annotation.
        expect(names("deployments", NS)).toEqual([...DEPLOYMENTS].sort());
        const pods = kubectlJson("pods", "-n", NS).items as {
            metadata: { name: string; annotations?: Record<string, string> };
            spec: { containers: { name: string; image: string }[] };
        }[];
        expect(pods).toHaveLength(DEPLOYMENTS.length);
        for (const pod of pods) {
            expect(pod.spec.containers.map((c) => c.name)).toContain("istio-proxy");
            expect(pod.spec.containers.find((c) => c.name === "istio-proxy")?.image).toBe(
                "docker.io/istio/proxyv2:1.29.6",
            );
            const status = JSON.parse(pod.metadata.annotations?.["sidecar.istio.io/status"] ?? "{}");
            expect(status.containers).toContain("istio-proxy");
        }

        // The rules are in the cluster as written: istiod's webhook (failurePolicy Fail) let each in.
        expect(names("destinationrules", NS)).toEqual(["hello", "ratings", "reviews"]);
        expect(names("virtualservices", NS)).toEqual(["bookinfo-gateway", "hello", "ratings", "reviews"]);
        const reviews = kubectlJson("virtualservice", "reviews", "-n", NS).spec;
        expect(reviews.http[0].match).toEqual([{ headers: { lab: { exact: "canary" } } }]);
        expect(reviews.http[0].route).toEqual([
            { destination: { host: "reviews", subset: "v3", port: { number: 9080 } } },
        ]);
        expect(reviews.http[1].route.map((d: { weight: number }) => d.weight)).toEqual([90, 10]);
        expect(reviews.http[1]).toMatchObject({
            timeout: "0.5s",
            retries: { attempts: 3, perTryTimeout: "0.2s", retryOn: "5xx,connect-failure" },
        });
        expect(kubectlJson("virtualservice", "ratings", "-n", NS).spec.http[0].fault).toEqual({
            delay: { fixedDelay: "7s", percentage: { value: 10 } },
            abort: { httpStatus: 500, percentage: { value: 1 } },
        });
        // The runbook's Gateway selects the mesh's ingress gateway pods, on its HTTP port.
        expect(kubectlJson("gateway.networking.istio.io", "bookinfo-gateway", "-n", NS).spec).toEqual({
            selector: { app: "istio-ingressgateway", istio: "ingressgateway" },
            servers: [{ port: { number: 80, name: "http", protocol: "HTTP" }, hosts: ["*"] }],
        });
        expect(up.outputs.ingressNodePort.value).toBe(31380);

        // A route the components' own check would stop, handed to istiod directly: it refuses it.
        const route = checkedRoute(
            {
                service: "reviews",
                port: 9080,
                versions: ["v1", "v3"],
                canary: { header: "lab", value: "canary", version: "v3" },
            },
            "istio",
        );
        const spec = virtualServiceSpec({ ...route, canary: { header: "lab canary", value: "canary", version: "v3" } });
        const refusal = applyRefusal({
            apiVersion: "networking.istio.io/v1",
            kind: "VirtualService",
            metadata: { name: "reviews-broken", namespace: NS },
            spec,
        });
        expect(refusal).toContain('admission webhook "validation.istio.io" denied the request');
        expect(refusal).toContain("header name lab canary is not a valid header name");
        expect(exists("virtualservice", "reviews-broken", "-n", NS)).toBe(false);

        const analysis = istioctl("analyze", "-n", NS);
        expect(analysis).toContain(`No validation issues found when analyzing namespace: ${NS}.`);
    });

    test("2b. what istiod served: productpage's proxy routes reviews 90/10 with the canary header ahead, timeout and retries, ratings with faults; the ingress gateway routes each path to productpage", async () => {
        const dump = await standinDump(NS, "app=productpage");
        const reviews = simulate(dump, { port: 9080, host: "reviews", path: "/reviews/0" });
        expect(clustersOf(reviews)).toEqual([
            [`outbound|9080|v1|reviews.${NS}.svc.cluster.local`, 90],
            [`outbound|9080|v2|reviews.${NS}.svc.cluster.local`, 10],
        ]);
        expect(reviews.route).toMatchObject({
            index: 1,
            timeoutSeconds: 0.5,
            retries: { attempts: 3, perTryTimeoutSeconds: 0.2, retryOn: ["5xx", "connect-failure"] },
        });
        const canary = simulate(dump, { port: 9080, host: "reviews", path: "/reviews/0", headers: { lab: "canary" } });
        expect(clustersOf(canary)).toEqual([[`outbound|9080|v3|reviews.${NS}.svc.cluster.local`, undefined]]);
        expect(canary.route).toMatchObject({ index: 0, match: "prefix /, header lab = canary", timeoutSeconds: 0.5 });
        const ratings = simulate(dump, { port: 9080, host: "ratings", path: "/ratings/0" });
        expect(ratings.route?.fault).toEqual({
            delay: { fixedDelaySeconds: 7, percent: 10 },
            abort: { httpStatus: 500, percent: 1 },
        });

        const gateway = await standinDump("istio-system", "app=istio-ingressgateway");
        const { routed, belowExact } = ingressRouting(gateway);
        expect(routed.length).toBeGreaterThan(0);
        for (const [probe, clusters] of routed) expect([probe, clusters]).toEqual([probe, [PRODUCTPAGE_CLUSTER]]);
        expect(belowExact.error).toBe("no route matched");
    });

    test("3. retries and faults asked of the Gateway API are refused before anything changes, naming the setting", async () => {
        const before = names("virtualservices", NS);
        await app.setConfig("istio-mesh-app:trafficApi", { value: "gateway-api" });
        const err = String(await failureOf(app.up(quiet)));
        expect(err).toContain(
            'istio-mesh-app:routes[0].retries: {"attempts":3,"perTryTimeout":"200ms","retryOn":["5xx","conn… cannot be written as Gateway API: the standard channel\'s HTTPRoute has no retry field; use trafficApi istio for retries, or leave them out',
        );
        expect(err).toContain(
            'istio-mesh-app:routes[1].fault: {"abort":{"httpStatus":500,"percent":1},"delay":{"fixedDelay… cannot be written as Gateway API: HTTPRoute has no fault injection; use trafficApi istio for delays and aborts, or leave fault out',
        );
        expect(names("virtualservices", NS)).toEqual(before);
        expect(names("httproutes", NS)).toEqual([]);
    });

    test("4. Gateway API with one setting: the Istio objects give way to HTTPRoutes that istiod accepts, a Gateway it programs on the mesh's ingress gateway, and analyze finds nothing", async () => {
        await app.setConfig("istio-mesh-app:routes", { value: JSON.stringify(GATEWAY_API_ROUTES) });
        const up = await app.up(quiet);
        expect(up.summary.result).toBe("succeeded");
        expect(names("virtualservices", NS)).toEqual([]);
        expect(names("destinationrules", NS)).toEqual([]);
        expect(names("gateways.networking.istio.io", NS)).toEqual([]);
        expect(names("httproutes", NS)).toEqual(["bookinfo-gateway", "hello", "reviews"]);
        for (const version of ["reviews-v1", "reviews-v2", "reviews-v3", "hello-v1", "hello-v2"]) {
            expect(exists("service", version, "-n", NS)).toBe(true);
        }
        // istiod's Gateway API controller judged every route: Accepted, its Services resolved.
        for (const route of ["bookinfo-gateway", "hello", "reviews"]) {
            await waitFor(`istiod to accept HTTPRoute ${route}`, 60, () => {
                const parents = kubectlJson("httproute", route, "-n", NS).status?.parents ?? [];
                const ok = (type: string) =>
                    parents.length === 1 &&
                    parents[0].controllerName === "istio.io/gateway-controller" &&
                    parents[0].conditions.some(
                        (c: { type: string; status: string }) => c.type === type && c.status === "True",
                    );
                return ok("Accepted") && ok("ResolvedRefs") ? true : undefined;
            });
        }
        const reviews = kubectlJson("httproute", "reviews", "-n", NS).spec;
        expect(reviews.parentRefs).toEqual([{ group: "", kind: "Service", name: "reviews", port: 9080 }]);
        expect(reviews.rules[1].backendRefs.map((b: { name: string; weight: number }) => [b.name, b.weight])).toEqual([
            ["reviews-v1", 90],
            ["reviews-v2", 10],
        ]);
        expect(kubectlJson("httproute", "hello", "-n", NS).spec.rules[0].timeouts).toEqual({ request: "1s500ms" });
        // The route's Gateway sits beside the ingress gateway's Service; istiod programs that gateway.
        const gateway = await waitFor("istiod to program the Gateway", 60, () => {
            const g = kubectlJson("gateway.gateway.networking.k8s.io", "bookinfo-gateway", "-n", "istio-system");
            const programmed = g.status?.conditions?.find((c: { type: string }) => c.type === "Programmed");
            return programmed?.status === "True" ? g : undefined;
        });
        expect(gateway.status.conditions.find((c: { type: string }) => c.type === "Programmed").message).toBe(
            "Resource programmed, assigned to service(s) istio-ingressgateway.istio-system.svc.cluster.local:80",
        );
        expect(gateway.status.listeners[0].attachedRoutes).toBe(1);
        // istiod deployed no gateway of its own.
        expect(names("deployments", "istio-system")).not.toContain("bookinfo-gateway-istio");

        // A broken header match past the components' check: the API server's schema refuses it.
        const route = checkedRoute(GATEWAY_API_ROUTES[0], "gateway-api");
        const spec = meshHttpRouteSpec({ ...route, canary: { header: "lab canary", value: "canary", version: "v3" } });
        const refusal = applyRefusal({
            apiVersion: "gateway.networking.k8s.io/v1",
            kind: "HTTPRoute",
            metadata: { name: "reviews-broken", namespace: NS },
            spec,
        });
        expect(refusal).toContain(
            `The HTTPRoute "reviews-broken" is invalid: spec.rules[0].matches[0].headers[0].name: Invalid value: "lab canary": spec.rules[0].matches[0].headers[0].name in body should match '^[A-Za-z0-9!#$%&'*+\\-.^_\\x60|~]+$'`,
        );
        expect(exists("httproute", "reviews-broken", "-n", NS)).toBe(false);

        const analysis = istioctl("analyze", "-n", NS);
        expect(analysis).toContain(`No validation issues found when analyzing namespace: ${NS}.`);
    });

    test("4b. what istiod served for the Gateway API: reviews 90/10 to the version Services with the canary header ahead and the timeout; each ingress path to productpage", async () => {
        const reviewsCluster = (v: string) => `outbound|9080||reviews-${v}.${NS}.svc.cluster.local`;
        // The proxies' dumps follow istiod's pushes: wait for the HTTPRoutes' configuration.
        const dump = await standinDump(NS, "app=productpage", (d) =>
            clustersOf(simulate(d, { port: 9080, host: "reviews", path: "/" })).some(
                ([c]) => c === reviewsCluster("v1"),
            ),
        );
        const reviews = simulate(dump, { port: 9080, host: "reviews", path: "/reviews/0" });
        expect(clustersOf(reviews)).toEqual([
            [reviewsCluster("v1"), 90],
            [reviewsCluster("v2"), 10],
        ]);
        expect(reviews.route?.timeoutSeconds).toBe(0.5);
        const canary = simulate(dump, { port: 9080, host: "reviews", path: "/reviews/0", headers: { lab: "canary" } });
        expect(clustersOf(canary)).toEqual([[reviewsCluster("v3"), undefined]]);
        expect(canary.route?.index).toBeLessThan(reviews.route?.index ?? 0);

        // The VirtualService's routes are named path-<i>; the HTTPRoute's are not.
        const gateway = await standinDump("istio-system", "app=istio-ingressgateway", (d) => {
            const r = simulate(d, {
                direction: "gateway",
                port: 80,
                host: "bookinfo.example.com",
                path: "/productpage",
            });
            return r.route !== undefined && r.route.name !== "path-0";
        });
        const { routed, belowExact } = ingressRouting(gateway);
        for (const [probe, clusters] of routed) expect([probe, clusters]).toEqual([probe, [PRODUCTPAGE_CLUSTER]]);
        expect(belowExact.error).toBe("no route matched");
    });

    test("5. destroying the app removes the app and nothing of the mesh", async () => {
        const before = meshSnapshot();
        const destroy = await app.destroy(quiet);
        expect(destroy.summary.result).toBe("succeeded");
        expect(names("deployments", NS)).toEqual([]);
        expect(names("services", NS)).toEqual([]);
        expect(names("httproutes", NS)).toEqual([]);
        expect(exists("gateway.gateway.networking.k8s.io", "bookinfo-gateway", "-n", "istio-system")).toBe(false);
        // The namespace was the user's and its injection label the mesh's: both stay.
        expect(meshSnapshot()).toEqual(before);
        expect(before.injectionLabel).toEqual(["enabled"]);
        expect(before.deployments).toEqual(expect.arrayContaining(["istiod", "istio-ingressgateway"]));
        // And the mesh stack has nothing to change (its one read is of its own outputs).
        const preview = await mesh.preview(quiet);
        expect(Object.keys(preview.changeSummary).filter((op) => op !== "same" && op !== "read")).toEqual([]);
    });
});
