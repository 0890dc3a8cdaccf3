// The one way raw user input is read: the stack configuration (`istio-mesh:<key>`),
// the example application's (`istio-mesh-app:<key>`) and the arguments of its
// traffic components. Every check below reports into a Reader instead of
// throwing, so a single run lists every problem, and each message has the same
// shape: `<namespace>:<key>: <value> <what is wrong and what is allowed>`. Pulumi
// hands values over as text, and a test or a script may hand over anything at
// all; nothing here assumes a shape it has not checked.

/** The config namespace of this project (`istio-mesh:<key>` in Pulumi.<stack>.yaml). */
export const CONFIG_NAMESPACE = "istio-mesh";

/** Thrown with every problem of a piece of input found, one per line, under `heading`. */
export class ConfigError extends Error {
    constructor(
        public readonly problems: string[],
        heading = "invalid stack configuration",
    ) {
        super(`${heading}:\n  - ${problems.join("\n  - ")}`);
        this.name = "ConfigError";
    }
}

/** How many characters of a value a message shows before it cuts with an ellipsis. */
const SHOWN_LENGTH = 60;

// Characters that a terminal would hide or use to reorder the line around them
// (controls, zero-width and bidi marks, lone surrogates): a message shows them as
// \uXXXX, so what is printed is what the stack file holds.
const HIDDEN_CHARACTERS =
    /[\u0000-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\ud800-\udfff]/gu;

/** Text cut to a readable length, with the characters a terminal would hide escaped. */
export function truncate(text: string): string {
    // Count code points, not UTF-16 units, so a cut never splits a character; the
    // slice first keeps a megabyte-long value from being split up whole.
    const head = Array.from(text.slice(0, SHOWN_LENGTH * 2 + 2));
    const cut = head.length > SHOWN_LENGTH ? `${head.slice(0, SHOWN_LENGTH).join("")}…` : text;
    return cut.replace(HIDDEN_CHARACTERS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** A value as messages show it: JSON-like and cut at about 60 characters. */
export function show(value: unknown): string {
    return truncate(render(value, SHOWN_LENGTH + 1));
}

// JSON.stringify would recurse through any depth (a RangeError on deeply nested
// input), throw on cycles and BigInt, and build a huge string for a huge value;
// this stops as soon as `budget` characters are written, which bounds the depth too.
function render(value: unknown, budget: number): string {
    const room = Math.max(0, budget);
    if (typeof value === "string") return JSON.stringify(value.slice(0, room * 2 + 2));
    if (typeof value === "function") return "a function";
    if (typeof value === "symbol") return value.toString();
    if (typeof value !== "object" || value === null) return String(value);
    let entries: [string | undefined, unknown][];
    if (Array.isArray(value)) {
        // At most `room` items; Array.from visits the holes of a sparse array, which map would skip.
        entries = Array.from({ length: Math.min(value.length, room) }, (_, i) => [undefined, value[i]]);
    } else if (isPlainObject(value)) {
        entries = Object.keys(value)
            .slice(0, room)
            .map((k) => [k, value[k]]);
    } else {
        return Object.prototype.toString.call(value);
    }
    const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
    let out = open;
    for (const [k, v] of entries) {
        if (out.length > budget) return out;
        if (out.length > 1) out += ",";
        if (k !== undefined) out += `${JSON.stringify(k.slice(0, room * 2 + 2))}:`;
        out += render(v, budget - out.length);
    }
    return out + close;
}

/** The key of a child setting as a message names it: `mesh.accessLogFile`, `gateways[0]`, `istiodValues["a.b"]`. */
export function childKey(parent: string, child: string | number): string {
    if (typeof child === "number") return `${parent}[${child}]`;
    // A key that is not a plain word is quoted, so a message stays one readable line.
    if (!/^[A-Za-z0-9_-]{1,60}$/.test(child)) return `${parent}[${show(child)}]`;
    return parent === "" ? child : `${parent}.${child}`;
}

/** Unset: absent, or null as YAML writes an empty value. */
export function isSet(v: unknown): boolean {
    return v !== undefined && v !== null;
}

/** A map as YAML and JSON write it; not an array, not a Date or other class instance. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
    if (typeof v !== "object" || v === null) return false;
    const proto: unknown = Object.getPrototypeOf(v);
    return proto === Object.prototype || proto === null;
}

/** A setting of a map: its own value only, never one inherited such as `constructor`. */
export function field(map: Record<string, unknown>, key: string): unknown {
    return Object.prototype.hasOwnProperty.call(map, key) ? map[key] : undefined;
}

/** Pulumi hands numbers over as text ("3"), so a number and its decimal text are the same value everywhere. */
export function asNumber(v: unknown): number | undefined {
    if (typeof v === "number") return Number.isFinite(v) ? v : undefined;
    if (typeof v === "string" && /^-?\d{1,15}(\.\d{1,15})?$/.test(v)) return Number(v);
    return undefined;
}

/** How many items a list may hold, and why no real stack needs more. */
export interface ListLimit {
    max: number;
    why: string;
}

/** A list whose items are objects of one shape, declared once beside the topic that reads it. */
export interface ListShape {
    /** What the items are, as a message names them: "gateways", "external services". */
    items: string;
    /** The settings of an item. */
    settings: readonly string[];
    limit?: ListLimit;
}

/** The rule an explicit null inside a setting breaks. */
export const EXPLICIT_NULL = "is empty (null); give it a value, or remove the line to get the default";

/**
 * Collects problems while reading one raw config map. Each typed read returns the
 * value, or undefined when it is unset or was refused; the caller applies the
 * default with `??`.
 */
export class Reader {
    readonly problems: string[] = [];
    private readonly refused: string[] = [];
    private readonly namespace: string;
    private readonly nullMeansUnset: boolean;

    /**
     * @param options.namespace what messages put before each key: `istio-mesh` (the
     *   default), `istio-mesh-app`, or "" for the arguments of a component.
     * @param options.nullMeansUnset a null inside an object reads as unset instead of
     *   being refused: the example application's traffic rules have always read it so.
     */
    constructor(options: { namespace?: string; nullMeansUnset?: boolean } = {}) {
        this.namespace = options.namespace ?? CONFIG_NAMESPACE;
        this.nullMeansUnset = options.nullMeansUnset ?? false;
    }

    /**
     * A value was given and is wrong: names the key, the value, and what is allowed.
     * Returns undefined, so a read can end with `return r.invalid(...)`.
     */
    invalid(key: string, value: unknown, rule: string): undefined {
        this.problems.push(`${this.prefix(key)}: ${show(value)} ${rule}`);
        this.refused.push(key);
        return undefined;
    }

    /** A secret was given and is wrong: like `invalid`, but the message never shows the value. */
    invalidSecret(key: string, rule: string): void {
        this.problems.push(`${this.prefix(key)}: (secret value not shown) ${rule}`);
        this.refused.push(key);
    }

    /** A value is missing. Returns undefined, so a read can end with `: r.required(...)`. */
    required(key: string, rule: string): undefined {
        // Given as null and refused for that already: one message per root cause.
        if (this.refused.includes(key)) return undefined;
        this.problems.push(`${this.prefix(key)}: is required; ${rule}`);
        this.refused.push(key);
        return undefined;
    }

    /**
     * No problem at or under any of the keys. A check that combines settings runs
     * only on valid ones, so a bad value is reported once, as the root cause, and
     * not again through every setting derived from it.
     */
    valid(...keys: string[]): boolean {
        return !this.refused.some((bad) =>
            keys.some((key) => bad === key || bad.startsWith(`${key}.`) || bad.startsWith(`${key}[`)),
        );
    }

    text(key: string, v: unknown, rule: string): string | undefined {
        if (!isSet(v)) return undefined;
        if (typeof v === "string") return v;
        this.invalid(key, v, rule);
        return undefined;
    }

    oneOf<T extends string>(key: string, v: unknown, allowed: readonly T[], what: string): T | undefined {
        if (!isSet(v)) return undefined;
        if (typeof v === "string" && (allowed as readonly string[]).includes(v)) return v as T;
        this.invalid(key, v, `is not ${what}; allowed: ${allowed.join(", ")}`);
        return undefined;
    }

    boolean(key: string, v: unknown): boolean | undefined {
        if (!isSet(v)) return undefined;
        if (v === true || v === "true") return true;
        if (v === false || v === "false") return false;
        this.invalid(key, v, "is not a boolean; allowed: true, false");
        return undefined;
    }

    integer(key: string, v: unknown, min: number, max: number): number | undefined {
        if (!isSet(v)) return undefined;
        const n = asNumber(v);
        if (n !== undefined && Number.isInteger(n) && n >= min && n <= max) return n;
        this.invalid(key, v, `is not a whole number from ${min} to ${max}`);
        return undefined;
    }

    /** `what` names the quantity, e.g. "a percentage". */
    number(key: string, v: unknown, min: number, max: number, what: string): number | undefined {
        if (!isSet(v)) return undefined;
        const n = asNumber(v);
        if (n !== undefined && n >= min && n <= max) return n;
        this.invalid(key, v, `is not ${what} from ${min} to ${max}`);
        return undefined;
    }

    /** A map of settings: each key not in `settings` is refused as unknown. */
    object(key: string, v: unknown, settings: readonly string[]): Record<string, unknown> | undefined {
        if (!isSet(v)) return undefined;
        if (!isPlainObject(v)) {
            this.invalid(key, v, `is not an object; its settings are ${settings.join(", ")}`);
            return undefined;
        }
        for (const k of Object.keys(v)) {
            if (!settings.includes(k)) {
                this.invalid(childKey(key, k), v[k], `is not a known setting; allowed: ${settings.join(", ")}`);
            } else if (v[k] === null && key !== "" && !this.nullMeansUnset) {
                // YAML writes `replicas:` with nothing after it as null: that reads as a
                // value meant and forgotten, not as "the default".
                this.invalid(childKey(key, k), null, EXPLICIT_NULL);
            }
        }
        return v;
    }

    /** An item of a list of objects: unlike an unset setting, an empty item is refused. */
    item(key: string, v: unknown, settings: readonly string[]): Record<string, unknown> | undefined {
        if (isSet(v)) return this.object(key, v, settings);
        this.invalid(key, v, `is not an object; its settings are ${settings.join(", ")}`);
        return undefined;
    }

    /**
     * A list whose items `read` checks one by one, with their keys; `what` names the
     * items, as `list` does. Returns what `read` returned, in order, without the
     * undefined of items it refused.
     */
    items<T>(
        key: string,
        v: unknown,
        what: string,
        limit: ListLimit | undefined,
        read: (item: unknown, itemKey: string) => T | undefined,
    ): T[] {
        const list = this.list(key, v, what, limit) ?? [];
        const values: T[] = [];
        // An index loop, not forEach or flatMap: those skip the holes of a sparse array.
        for (let i = 0; i < list.length; i++) {
            const value = read(list[i], childKey(key, i));
            if (value !== undefined) values.push(value);
        }
        return values;
    }

    /**
     * A list of objects of `shape`: refuses a value that is not such a list (or is
     * longer than its bound) and each item that is not an object of its settings,
     * and hands every other item to `read`, as `items` does.
     */
    objects<T>(
        key: string,
        v: unknown,
        shape: ListShape,
        read: (item: Record<string, unknown>, itemKey: string) => T | undefined,
    ): T[] {
        return this.items(key, v, `${shape.items} {${shape.settings.join(", ")}}`, shape.limit, (value, itemKey) => {
            const item = this.item(itemKey, value, shape.settings);
            return item ? read(item, itemKey) : undefined;
        });
    }

    /** A map whose keys are data (labels, port numbers), not settings; `what` names its entries. */
    map(key: string, v: unknown, what: string): Record<string, unknown> | undefined {
        if (!isSet(v)) return undefined;
        if (isPlainObject(v)) return v;
        this.invalid(key, v, `is not a map of ${what}`);
        return undefined;
    }

    /**
     * A list; `what` names its items, e.g. "namespace names". A list longer than
     * `limit.max` is refused whole (and read as empty), so a runaway list is one
     * message, not thousands, and nothing downstream walks it.
     */
    list(key: string, v: unknown, what: string, limit?: ListLimit): unknown[] | undefined {
        if (!isSet(v)) return undefined;
        if (!Array.isArray(v)) {
            this.invalid(key, v, `is not a list of ${what}`);
            return undefined;
        }
        if (limit && v.length > limit.max) {
            this.invalid(key, v, `lists ${v.length} items; at most ${limit.max} are allowed: ${limit.why}`);
            return [];
        }
        return v;
    }

    /** Throws every problem collected, if any, under `heading`. */
    throwIfAny(heading?: string): void {
        if (this.problems.length > 0) throw new ConfigError(this.problems, heading);
    }

    private prefix(key: string): string {
        if (this.namespace === "") return key;
        return key === "" ? this.namespace : `${this.namespace}:${key}`;
    }
}

/**
 * Where each value was first used, so a second use is reported as a duplicate of
 * the first. `rule` says why a value must be unique.
 */
export class UniqueValues<T> {
    private readonly first = new Map<T, string>();

    constructor(
        private readonly r: Reader,
        private readonly rule: string,
    ) {}

    /** Records `value` at `key`; false (and a problem) if an earlier key has it. */
    claim(key: string, value: T, shown: unknown = value): boolean {
        const earlier = this.first.get(value);
        if (earlier === undefined) {
            this.first.set(value, key);
            return true;
        }
        this.r.invalid(key, shown, `is a duplicate of ${earlier}; ${this.rule}`);
        return false;
    }
}
