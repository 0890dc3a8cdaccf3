// Pulumi mocks that record every resource the code under test registers.
import * as pulumi from "@pulumi/pulumi";
// The SDK's runtime state has no public setter for what the monitor supports.
import { getStore } from "@pulumi/pulumi/runtime/state";

export interface RecordedResource {
    type: string;
    name: string;
    inputs: Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- resource inputs are free-form JSON
}

export const recorded: RecordedResource[] = [];

export function useRecordingMocks(): void {
    pulumi.runtime.setMocks(
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
