// The default Kubernetes provider's cluster settings, read from the stack config
// the provider itself reads (`kubernetes:kubeconfig`, `kubernetes:context`,
// `kubernetes:cluster`), so that the program's own client goes where the provider
// goes. The values are used in this process only; every copy that enters a
// resource's inputs is wrapped with pulumi.secret (SidecarMigration).
import * as pulumi from "@pulumi/pulumi";
import { KubeconfigSource } from "./kubeconfig";

/** The settings as the provider gets them; relative paths resolve against the working directory, as the provider's do. */
export function providerCluster(): KubeconfigSource {
    const k8s = new pulumi.Config("kubernetes");
    const setting = (key: string) => {
        const value = k8s.get(key);
        // The provider treats an empty string as unset (its Python SDK used to send one).
        return value === undefined || value === "" ? {} : { [key]: value };
    };
    return { ...setting("kubeconfig"), ...setting("context"), ...setting("cluster"), workDir: process.cwd() };
}
