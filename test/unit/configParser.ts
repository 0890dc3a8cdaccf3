// The stack config parser as the unit tests call it: a version given, local
// sources resolved against this folder, and the problems of a refused config.
import { ConfigError, parseStackConfig, StackConfig } from "../../components/config";

export function configParser(version: string): {
    parse: (raw: Record<string, unknown>) => StackConfig;
    problems: (raw: Record<string, unknown>) => string[];
} {
    const parse = (raw: Record<string, unknown>) => parseStackConfig({ version, ...raw }, __dirname);
    const problems = (raw: Record<string, unknown>) => {
        try {
            parse(raw);
        } catch (e) {
            if (e instanceof ConfigError) return e.problems;
            throw e;
        }
        throw new Error("config was accepted");
    };
    return { parse, problems };
}
