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

/** Stops the SDK's transform callback server, which would keep jest alive. */
export function stopMocks(): void {
    getStore().callbacks?.shutdown();
}
