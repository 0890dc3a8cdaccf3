// The toolchain end to end: the real pulumi CLI, the Node.js language host and the
// Kubernetes provider create a Namespace and a Deployment on the local cluster,
// the Deployment becomes Available, and destroy removes both.
import * as path from "path";
import { destroyAndRemove, exists, footprint, freshStack, kubectlJson } from "./harness";
import type { Stack } from "@pulumi/pulumi/automation";

const workDir = path.join(__dirname, "smoke-program");
const suite = footprint({ stacks: [["smoke", "smoke"]], namespaces: ["smoke"] });
let stack: Stack | undefined;

beforeAll(() => suite.assertCleanStart());
afterAll(() => suite.cleanUp([["destroy and remove the stack", () => destroyAndRemove(stack)]]), 300_000);

test("pulumi up creates an Available Deployment; destroy removes it and its namespace", async () => {
    stack = await freshStack(workDir, "smoke", { config: {} });
    const up = await stack.up({ onOutput: () => undefined });
    expect(up.summary.result).toBe("succeeded");
    expect(up.summary.resourceChanges).toEqual({ create: 3 });

    const deployment = kubectlJson("deployment", "smoke", "-n", "smoke");
    const available = deployment.status.conditions.find((c: { type: string }) => c.type === "Available");
    expect(available.status).toBe("True");
    expect(deployment.status.readyReplicas).toBe(2);
    expect(up.outputs.readyReplicas.value).toBe(2);

    const destroy = await stack.destroy({ onOutput: () => undefined });
    expect(destroy.summary.result).toBe("succeeded");
    expect(exists("deployment", "smoke", "-n", "smoke")).toBe(false);
    // Namespace deletion is asynchronous in Kubernetes; Pulumi waits for it.
    expect(exists("namespace", "smoke")).toBe(false);
}, 300_000);
