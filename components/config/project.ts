// Where the stack's settings come from: this project's keys of a config map, and
// the project folder that relative paths in them are relative to.
import * as fs from "fs";
import * as path from "path";
import { CONFIG_NAMESPACE } from "./reader";

/**
 * This project's keys out of a config map such as `pulumi.runtime.allConfig()` or a
 * stack file's `config:` section, without the `istio-mesh:` prefix; other
 * namespaces (`kubernetes:...`) are left out.
 */
export function projectConfigKeys<T>(all: Record<string, T>): Record<string, T> {
    const prefix = `${CONFIG_NAMESPACE}:`;
    return Object.fromEntries(
        Object.entries(all)
            .filter(([key]) => key.startsWith(prefix))
            .map(([key, value]) => [key.slice(prefix.length), value]),
    );
}

/**
 * The project folder (the one holding Pulumi.yaml) at or above `from`: relative
 * paths in stack config are relative to it, whether the program runs built from
 * bin/ or as TypeScript from the project.
 */
export function findProjectDir(from: string): string {
    for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "Pulumi.yaml"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`no Pulumi.yaml at or above ${from}`);
    }
}
