// Pulumi mocks that record every resource the code under test registers.
import * as pulumi from "@pulumi/pulumi";

/** The part of the SDK's (undeclared) runtime state the mocks need to adjust. */
interface RuntimeStore {
    supportsTransforms: boolean;
    callbacks?: { shutdown(): void };
}
// The runtime state module ships without type declarations of getStore.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { getStore } = require("@pulumi/pulumi/runtime/state") as { getStore(): RuntimeStore };
// The SDK's own wait for its pending RPCs (what it awaits before disconnecting), internal and undeclared.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { waitForRPCs } = require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> };

export interface RecordedResource {
    type: string;
    name: string;
    inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- resource inputs are free-form JSON
}

export const recorded: RecordedResource[] = [];

export async function useRecordingMocks(): Promise<void> {
    await pulumi.runtime.setMocks(
        {
            newResource: (args) => {
                recorded.push({ type: args.type, name: args.name, inputs: args.inputs });
                return { id: `${args.name}-id`, state: { ...args.inputs, resources: [] } };
            },
            call: (args) => args.inputs,
        },
        "istio-mesh",
        "test",
        false,
    );
    // The mock monitor reports resource transforms as unsupported, and the SDK then
    // refuses any resource that has them. The engine runs transforms, not the SDK,
    // so under mocks they are registered and never run: transforms.test.ts tests
    // them as functions, and the e2e suite runs them in the real engine.
    getStore().supportsTransforms = true;
}

/**
 * Resolves once every resource registered so far (and every one those
 * registrations led to) has reached the mocks: the SDK counts each registration
 * from the moment a resource is constructed until its RPC is done. What a test
 * finds in `recorded` after this is all there will be, so "nothing registered" is
 * an assertion, not a guess after a pause.
 */
export function registrationsSettled(): Promise<void> {
    return waitForRPCs();
}

/** Stops the SDK's transform callback server, which would keep jest alive. */
export function stopMocks(): void {
    getStore().callbacks?.shutdown();
}
