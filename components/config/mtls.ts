// `mesh.mtls`: the mesh-wide mutual-TLS mode, exceptions for workloads or ports
// (each a PeerAuthentication in the workloads' namespace), and hosts outside the
// mesh that its clients call without Istio mTLS (each a ServiceEntry and a
// DestinationRule). What istiod would refuse, or accept and then apply otherwise
// than written, is refused here, before a single resource is registered.
import { isIP } from "net";
import { EXTERNAL_PROTOCOLS, MESH_MTLS_MODES, PEER_MTLS_MODES, PeerMtlsMode } from "./allowed";
import { ControlPlane } from "./controlPlane";
import { LIMITS } from "./limits";
import {
    EXTERNAL_HOST,
    EXTERNAL_SERVICE_NAME,
    isLabelKey,
    LABEL_KEY_HINT,
    LABEL_VALUE,
    MTLS_EXCEPTION_NAME,
    NAMESPACE_NAME,
    readListedName,
    readName,
    readRequiredName,
} from "./names";
import { asNumber, childKey, field, isSet, ListShape, Reader, UniqueValues } from "./reader";
import { ExternalService, MtlsException, MtlsPortMode, MtlsSettings } from "./types";

export const MTLS_SETTINGS = ["mode", "exceptions", "externalServices"] as const;
export const MTLS_EXCEPTIONS: ListShape = {
    items: "exceptions",
    settings: ["name", "namespace", "selector", "mode", "ports"],
    limit: LIMITS.mtlsExceptions,
};
export const EXTERNAL_SERVICES: ListShape = {
    items: "external services",
    settings: ["name", "host", "port", "protocol", "namespace", "addresses"],
    limit: LIMITS.externalServices,
};

const EXCEPTIONS_KEY = "mesh.mtls.exceptions";
const EXTERNAL_SERVICES_KEY = "mesh.mtls.externalServices";

export function readMtls(r: Reader, v: unknown, control: ControlPlane): MtlsSettings {
    const mtls = r.object("mesh.mtls", v, MTLS_SETTINGS) ?? {};
    return {
        mode: r.oneOf("mesh.mtls.mode", field(mtls, "mode"), MESH_MTLS_MODES, "a mesh-wide mTLS mode"),
        exceptions: readExceptions(r, field(mtls, "exceptions"), control),
        externalServices: readExternalServices(r, field(mtls, "externalServices"), control.namespace),
    };
}

function readExceptions(r: Reader, v: unknown, control: ControlPlane): MtlsException[] {
    const names = new UniqueValues<string>(
        r,
        "exception names must be unique, across namespaces too, as each one also names its Pulumi resource",
    );
    const targets = new UniqueValues<string>(
        r,
        "two policies for the same workloads (one namespace and selector; no selector: the whole namespace) conflict, and Istio applies only the older one",
    );
    return r.objects(EXCEPTIONS_KEY, v, MTLS_EXCEPTIONS, (e, key): MtlsException | undefined => {
        const nameKey = childKey(key, "name");
        const name = readRequiredName(
            r,
            nameKey,
            field(e, "name"),
            MTLS_EXCEPTION_NAME,
            "every exception needs a name, a DNS label such as mysql; it names the PeerAuthentication",
        );
        if (name !== undefined) names.claim(nameKey, name);

        const namespaceKey = childKey(key, "namespace");
        let namespace = readRequiredName(
            r,
            namespaceKey,
            field(e, "namespace"),
            NAMESPACE_NAME,
            "the existing namespace of the workloads it applies to (the stack never creates it)",
        );
        if (namespace === control.namespace && r.valid("namespace")) {
            r.invalid(
                namespaceKey,
                namespace,
                "is the control-plane namespace, Istio's root namespace: there a PeerAuthentication without selector is the mesh-wide policy (set by mesh.mtls.mode), and Istio's reference says one with a selector is ignored; put the exception in the workloads' own namespace",
            );
            namespace = undefined;
        }

        const selectorKey = childKey(key, "selector");
        const selector = readSelector(r, selectorKey, field(e, "selector"));
        const modeKey = childKey(key, "mode");
        const mode = r.oneOf(modeKey, field(e, "mode"), PEER_MTLS_MODES, "an mTLS mode");
        const portsKey = childKey(key, "ports");
        const ports = readPortModes(r, portsKey, field(e, "ports"));

        if (ports.length > 0 && !isSet(field(e, "selector"))) {
            r.required(
                selectorKey,
                "port modes apply only to the workloads a selector picks, and istiod refuses them in a namespace-wide PeerAuthentication; e.g. selector {app: mysql}",
            );
        }
        if (mode === undefined && ports.length === 0 && r.valid(modeKey, portsKey)) {
            r.required(
                modeKey,
                `an exception without port modes sets the mode of its workloads: one of ${PEER_MTLS_MODES.join(", ")}`,
            );
        }
        if (control.profile === "ambient" && r.valid("profile")) {
            refuseDisableInAmbient(r, modeKey, mode);
            for (const p of ports) refuseDisableInAmbient(r, childKey(portsKey, String(p.port)), p.mode);
        }

        if (name === undefined || namespace === undefined || !r.valid(key)) return undefined;
        const exception: MtlsException = { name, namespace, selector: selector ?? {}, mode, ports };
        const target = { namespace, ...(selector ? { selector } : {}) };
        return targets.claim(key, canonicalTarget(namespace, exception.selector), target) ? exception : undefined;
    });
}

function refuseDisableInAmbient(r: Reader, key: string, mode: PeerMtlsMode | undefined): void {
    if (mode !== "DISABLE") return;
    r.invalid(
        key,
        mode,
        "is not supported in profile ambient: ztunnel always tunnels traffic between workloads over mTLS; use PERMISSIVE to accept plain text as well",
    );
}

/** Namespace and labels as one text, the same whatever the order the labels were written in. */
function canonicalTarget(namespace: string, selector: Record<string, string>): string {
    const labels = Object.keys(selector)
        .sort()
        .map((k) => [k, selector[k]]);
    return JSON.stringify([namespace, labels]);
}

/** `matchLabels` of a workload selector; undefined when unset or refused. */
function readSelector(r: Reader, key: string, v: unknown): Record<string, string> | undefined {
    const map = r.map(key, v, "workload labels such as {app: mysql}");
    if (!map) return undefined;
    const keys = Object.keys(map);
    if (keys.length === 0) {
        r.invalid(
            key,
            map,
            "selects no workload; give the workloads' labels such as {app: mysql}, or leave selector out for the whole namespace",
        );
        return undefined;
    }
    const labels: [string, string][] = [];
    for (const label of keys) {
        const labelKey = childKey(key, label);
        if (!isLabelKey(label)) {
            r.invalid(labelKey, label, `is not a valid label key; ${LABEL_KEY_HINT}`);
            continue;
        }
        const value = readListedName(r, labelKey, map[label], LABEL_VALUE);
        if (value !== undefined) labels.push([label, value]);
    }
    // fromEntries defines own properties, so even a key like __proto__ stays a label.
    return r.valid(key) ? Object.fromEntries(labels) : undefined;
}

/** `ports`: workload port numbers (map keys, so always text) to modes, ascending. */
function readPortModes(r: Reader, key: string, v: unknown): MtlsPortMode[] {
    const map = r.map(key, v, 'workload port numbers to mTLS modes such as {"3306": PERMISSIVE}');
    if (!map) return [];
    const seen = new UniqueValues<number>(r, "list each port once");
    const ports: MtlsPortMode[] = [];
    for (const text of Object.keys(map)) {
        const portKey = childKey(key, text);
        const port = asNumber(text);
        if (port === undefined || !Number.isInteger(port) || port < 1 || port > 65535) {
            r.invalid(
                portKey,
                text,
                "is not a port number from 1 to 65535; the keys of ports are the ports the workload listens on (container ports, not Service ports)",
            );
            continue;
        }
        const value = map[text];
        const mode = isSet(value)
            ? r.oneOf(portKey, value, PEER_MTLS_MODES, "an mTLS mode")
            : r.required(portKey, `each port needs a mode: one of ${PEER_MTLS_MODES.join(", ")}`);
        if (mode !== undefined && seen.claim(portKey, port, text)) ports.push({ port, mode });
    }
    return ports.sort((a, b) => a.port - b.port);
}

function readExternalServices(r: Reader, v: unknown, controlNamespace: string): ExternalService[] {
    const names = new UniqueValues<string>(
        r,
        "external service names must be unique, as each one names its ServiceEntry, DestinationRule and Pulumi resources",
    );
    const hosts = new UniqueValues<string>(
        r,
        "two ServiceEntries and DestinationRules for one host conflict; list each host once",
    );
    // Sidecars tell plain TCP connections apart by destination address and port only;
    // an entry without addresses listens on 0.0.0.0:<port>.
    const tcpListeners = new UniqueValues<string>(
        r,
        "two TCP external services on one address and port share one sidecar listener, which sends the traffic of both to one host; give each its own addresses",
    );
    return r.objects(EXTERNAL_SERVICES_KEY, v, EXTERNAL_SERVICES, (s, key): ExternalService | undefined => {
        const nameKey = childKey(key, "name");
        const name = readRequiredName(
            r,
            nameKey,
            field(s, "name"),
            EXTERNAL_SERVICE_NAME,
            "every external service needs a name, a DNS label such as external-mysql",
        );
        if (name !== undefined) names.claim(nameKey, name);

        const hostKey = childKey(key, "host");
        let host = readRequiredName(
            r,
            hostKey,
            field(s, "host"),
            EXTERNAL_HOST,
            "the DNS name the mesh clients call, such as mysql.example.com",
        );
        if (host !== undefined && /(^|\.)cluster\.local$/.test(host)) {
            r.invalid(
                hostKey,
                host,
                "is a name inside the cluster, which Istio knows already; externalServices are for hosts outside it (to a Service whose pods have no sidecar, auto mTLS sends plain text by itself)",
            );
            host = undefined;
        }
        if (host !== undefined) hosts.claim(hostKey, host);

        const portKey = childKey(key, "port");
        const rawPort = field(s, "port");
        const port = isSet(rawPort)
            ? r.integer(portKey, rawPort, 1, 65535)
            : r.required(portKey, "the port the mesh clients call, a whole number from 1 to 65535");
        const protocolKey = childKey(key, "protocol");
        const protocol = r.oneOf(protocolKey, field(s, "protocol"), EXTERNAL_PROTOCOLS, "a protocol") ?? "TCP";
        const namespace = readName(r, childKey(key, "namespace"), field(s, "namespace"), NAMESPACE_NAME);
        const addressesKey = childKey(key, "addresses");
        const addresses = readAddresses(r, addressesKey, field(s, "addresses"));

        if (protocol === "TCP" && port !== undefined && r.valid(protocolKey, addressesKey)) {
            if (addresses.length === 0) {
                tcpListeners.claim(portKey, `0.0.0.0:${port}`, rawPort);
            } else {
                addresses.forEach((address, a) =>
                    tcpListeners.claim(childKey(addressesKey, a), `${address}:${port}`, address),
                );
            }
        }

        if (name === undefined || host === undefined || port === undefined || !r.valid(key)) return undefined;
        return { name, host, port, protocol, namespace: namespace ?? controlNamespace, addresses };
    });
}

/** IP addresses, each once. No CIDR ranges: istiod refuses them for an entry resolved by DNS. */
function readAddresses(r: Reader, key: string, v: unknown): string[] {
    const seen = new UniqueValues<string>(r, "list each address once");
    return r.items(key, v, "IP addresses", LIMITS.externalAddresses, (address, addressKey) => {
        if (typeof address !== "string" || address.length > 64 || isIP(address) === 0) {
            return r.invalid(
                addressKey,
                address,
                "is not an IP address; list the addresses the host resolves to, such as 203.0.113.10 (no CIDR ranges: the host is resolved by DNS)",
            );
        }
        return seen.claim(addressKey, address) ? address : undefined;
    });
}
