// The marks by which the stack knows its own objects on a cluster: the stack id
// every object carries, the label of the namespaces it creates, and the owner of
// the Gateway API CRDs. Every phase reads or writes them, so they sit below all.
import type { KubeObject } from "./kube";

/** On every object the stack creates: the id of the stack that created it. */
export const STACK_ID_LABEL = "istio-mesh.io/stack-id";
/** Beside the id, for people and messages: `<organization>/<project>/<stack>` when the object was last applied. */
export const STACK_NAME_ANNOTATION = "istio-mesh.io/stack";

/** The label every namespace this stack creates carries (before stack ids, the only mark of one). */
export const OWNED_NAMESPACE_LABEL = { key: "app.kubernetes.io/part-of", value: "istio-mesh" };

/** Set by the stack on the CRDs it applies: its stack id (before stack ids, `<organization>/<project>/<stack>`). */
export const OWNER_ANNOTATION = "istio-mesh.io/gateway-api-owner";

export interface ClusterObject extends KubeObject {
    kind?: string;
    metadata: KubeObject["metadata"] & {
        managedFields?: { manager?: string }[];
        deletionTimestamp?: string;
        uid?: string;
    };
    status?: { phase?: string };
}
