// mesh.mtls: the mesh-wide mode, exceptions and external services.
import { configParser } from "../configParser";

const { parse, problems } = configParser("1.29.6");

// Issue 8, part 3: the mTLS policy, with the runbook's MySQL case in both directions.
describe("mesh.mtls", () => {
    const exception = (fields: Record<string, unknown>) => ({ mesh: { mtls: { exceptions: [fields] } } });
    const external = (...services: Record<string, unknown>[]) => ({ mesh: { mtls: { externalServices: services } } });
    const mysql = { name: "mysql", namespace: "db", selector: { app: "mysql" } };
    const externalMysql = { name: "external-mysql", host: "mysql.example.com", port: 3306 };

    test("the runbook's MySQL in both directions: typed, defaults applied, ports as numbers", () => {
        const c = parse({
            mesh: {
                mtls: {
                    mode: "STRICT",
                    exceptions: [{ ...mysql, ports: { "3306": "PERMISSIVE" } }],
                    externalServices: [externalMysql],
                },
            },
        });
        expect(c.mesh.mtls).toEqual({
            mode: "STRICT",
            exceptions: [
                {
                    name: "mysql",
                    namespace: "db",
                    selector: { app: "mysql" },
                    mode: undefined,
                    ports: [{ port: 3306, mode: "PERMISSIVE" }],
                },
            ],
            externalServices: [
                {
                    name: "external-mysql",
                    host: "mysql.example.com",
                    port: 3306,
                    protocol: "TCP",
                    namespace: "istio-system",
                    addresses: [],
                },
            ],
        });
    });

    test("an exception without selector covers its namespace; external services on TLS may share a port", () => {
        const c = parse({
            mesh: {
                mtls: {
                    exceptions: [{ name: "legacy", namespace: "legacy", mode: "PERMISSIVE" }],
                    externalServices: [
                        { name: "a", host: "a.example.com", port: 443, protocol: "TLS" },
                        { name: "b", host: "b.example.com", port: 443, protocol: "TLS", namespace: "shop" },
                    ],
                },
            },
        });
        expect(c.mesh.mtls.exceptions[0].selector).toEqual({});
        expect(c.mesh.mtls.externalServices.map((s) => s.namespace)).toEqual(["istio-system", "shop"]);
    });

    test.each([
        // The mesh-wide mode and the section itself.
        [
            { mesh: { mtls: { mode: "DISABLE" } } },
            'istio-mesh:mesh.mtls.mode: "DISABLE" is not a mesh-wide mTLS mode; allowed: PERMISSIVE, STRICT',
        ],
        [
            { mesh: { mtls: "STRICT" } },
            'istio-mesh:mesh.mtls: "STRICT" is not an object; its settings are mode, exceptions, externalServices',
        ],
        [
            { mesh: { mtls: { modes: "STRICT" } } },
            'istio-mesh:mesh.mtls.modes: "STRICT" is not a known setting; allowed: mode, exceptions, externalServices',
        ],
        [
            { mesh: { mtls: { exceptions: mysql } } },
            'istio-mesh:mesh.mtls.exceptions: {"name":"mysql","namespace":"db","selector":{"app":"mysql"}} is not a list of exceptions {name, namespace, selector, mode, ports}',
        ],
        // Exceptions: names, namespaces, selectors, modes, ports.
        [
            exception({ namespace: "db", mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].name: is required; every exception needs a name, a DNS label such as mysql; it names the PeerAuthentication",
        ],
        [
            exception({ ...mysql, name: "MySQL", mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].name: \"MySQL\" is not a valid exception name; it names the PeerAuthentication, so use a DNS label: lowercase letters, digits and '-', at most 63 characters, such as mysql",
        ],
        [
            {
                mesh: {
                    mtls: {
                        exceptions: [
                            { ...mysql, mode: "PERMISSIVE" },
                            { name: "mysql", namespace: "shop", mode: "STRICT" },
                        ],
                    },
                },
            },
            'istio-mesh:mesh.mtls.exceptions[1].name: "mysql" is a duplicate of mesh.mtls.exceptions[0].name; exception names must be unique, across namespaces too, as each one also names its Pulumi resource',
        ],
        [
            exception({ name: "mysql", mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].namespace: is required; the existing namespace of the workloads it applies to (the stack never creates it)",
        ],
        [
            exception({ ...mysql, namespace: "istio-system", mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].namespace: \"istio-system\" is the control-plane namespace, Istio's root namespace: there a PeerAuthentication without selector is the mesh-wide policy (set by mesh.mtls.mode), and Istio's reference says one with a selector is ignored; put the exception in the workloads' own namespace",
        ],
        [
            exception({ ...mysql, selector: {}, mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].selector: {} selects no workload; give the workloads' labels such as {app: mysql}, or leave selector out for the whole namespace",
        ],
        [
            exception({ ...mysql, selector: { "app*": "mysql" }, mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].selector[\"app*\"]: \"app*\" is not a valid label key; use a Kubernetes label key such as app or app.kubernetes.io/name: a name of at most 63 letters, digits, '-', '_' and '.', optionally after a DNS prefix and '/' (no '*', which Istio refuses)",
        ],
        [
            exception({ ...mysql, selector: { version: 1 }, mode: "PERMISSIVE" }),
            "istio-mesh:mesh.mtls.exceptions[0].selector.version: 1 is not a valid label value; use at most 63 letters, digits, '-', '_' and '.', starting and ending with a letter or digit, as text (quote a number: \"1\")",
        ],
        [
            exception({ ...mysql, mode: "OFF" }),
            'istio-mesh:mesh.mtls.exceptions[0].mode: "OFF" is not an mTLS mode; allowed: PERMISSIVE, STRICT, DISABLE',
        ],
        [
            exception(mysql),
            "istio-mesh:mesh.mtls.exceptions[0].mode: is required; an exception without port modes sets the mode of its workloads: one of PERMISSIVE, STRICT, DISABLE",
        ],
        [
            exception({ name: "mysql", namespace: "db", ports: { "3306": "PERMISSIVE" } }),
            "istio-mesh:mesh.mtls.exceptions[0].selector: is required; port modes apply only to the workloads a selector picks, and istiod refuses them in a namespace-wide PeerAuthentication; e.g. selector {app: mysql}",
        ],
        [
            exception({ ...mysql, ports: { "70000": "PERMISSIVE" } }),
            'istio-mesh:mesh.mtls.exceptions[0].ports.70000: "70000" is not a port number from 1 to 65535; the keys of ports are the ports the workload listens on (container ports, not Service ports)',
        ],
        [
            exception({ ...mysql, ports: { "3306": "OFF" } }),
            'istio-mesh:mesh.mtls.exceptions[0].ports.3306: "OFF" is not an mTLS mode; allowed: PERMISSIVE, STRICT, DISABLE',
        ],
        [
            exception({ ...mysql, ports: { "3306": null } }),
            "istio-mesh:mesh.mtls.exceptions[0].ports.3306: is required; each port needs a mode: one of PERMISSIVE, STRICT, DISABLE",
        ],
        [
            exception({ ...mysql, ports: { "3306": "PERMISSIVE", "3306.0": "STRICT" } }),
            'istio-mesh:mesh.mtls.exceptions[0].ports["3306.0"]: "3306.0" is a duplicate of mesh.mtls.exceptions[0].ports.3306; list each port once',
        ],
        [
            {
                mesh: {
                    mtls: {
                        exceptions: [
                            { name: "a", namespace: "db", selector: { app: "mysql", tier: "db" }, mode: "STRICT" },
                            { name: "b", namespace: "db", selector: { tier: "db", app: "mysql" }, mode: "DISABLE" },
                        ],
                    },
                },
            },
            'istio-mesh:mesh.mtls.exceptions[1]: {"namespace":"db","selector":{"tier":"db","app":"mysql"}} is a duplicate of mesh.mtls.exceptions[0]; two policies for the same workloads (one namespace and selector; no selector: the whole namespace) conflict, and Istio applies only the older one',
        ],
        [
            {
                mesh: {
                    mtls: {
                        exceptions: [
                            { name: "a", namespace: "db", mode: "STRICT" },
                            { name: "b", namespace: "db", mode: "PERMISSIVE" },
                        ],
                    },
                },
            },
            'istio-mesh:mesh.mtls.exceptions[1]: {"namespace":"db"} is a duplicate of mesh.mtls.exceptions[0]; two policies for the same workloads (one namespace and selector; no selector: the whole namespace) conflict, and Istio applies only the older one',
        ],
        [
            { profile: "ambient", ...exception({ ...mysql, mode: "DISABLE" }) },
            'istio-mesh:mesh.mtls.exceptions[0].mode: "DISABLE" is not supported in profile ambient: ztunnel always tunnels traffic between workloads over mTLS; use PERMISSIVE to accept plain text as well',
        ],
        // External services: names, hosts, ports, protocols, namespaces, addresses.
        [
            external({ ...externalMysql, name: "External_MySQL" }),
            "istio-mesh:mesh.mtls.externalServices[0].name: \"External_MySQL\" is not a valid external service name; it names the ServiceEntry and the DestinationRule, so use a DNS label: lowercase letters, digits and '-', at most 63 characters, such as external-mysql",
        ],
        [
            external({ ...externalMysql, host: "mysql" }),
            'istio-mesh:mesh.mtls.externalServices[0].host: "mysql" is not a valid host; use a fully qualified DNS name such as mysql.example.com: lowercase labels of at most 63 characters, at most 253 characters in all, no wildcard (the host is resolved by DNS) and no IP address (list those under addresses)',
        ],
        [
            external({ ...externalMysql, host: "mysql.db.svc.cluster.local" }),
            'istio-mesh:mesh.mtls.externalServices[0].host: "mysql.db.svc.cluster.local" is a name inside the cluster, which Istio knows already; externalServices are for hosts outside it (to a Service whose pods have no sidecar, auto mTLS sends plain text by itself)',
        ],
        [
            external({ ...externalMysql, port: 0 }),
            "istio-mesh:mesh.mtls.externalServices[0].port: 0 is not a whole number from 1 to 65535",
        ],
        [
            external({ ...externalMysql, protocol: "MYSQL" }),
            'istio-mesh:mesh.mtls.externalServices[0].protocol: "MYSQL" is not a protocol; allowed: TCP, TLS, HTTP, HTTPS, HTTP2, GRPC',
        ],
        [
            external({ ...externalMysql, namespace: "DB" }),
            "istio-mesh:mesh.mtls.externalServices[0].namespace: \"DB\" is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters",
        ],
        [
            external({ ...externalMysql, addresses: ["203.0.113.0/24"] }),
            'istio-mesh:mesh.mtls.externalServices[0].addresses[0]: "203.0.113.0/24" is not an IP address; list the addresses the host resolves to, such as 203.0.113.10 (no CIDR ranges: the host is resolved by DNS)',
        ],
        [
            external({ ...externalMysql, addresses: ["203.0.113.10", "203.0.113.10"] }),
            'istio-mesh:mesh.mtls.externalServices[0].addresses[1]: "203.0.113.10" is a duplicate of mesh.mtls.externalServices[0].addresses[0]; list each address once',
        ],
        [
            external(externalMysql, { ...externalMysql, host: "replica.example.com", port: 3307 }),
            'istio-mesh:mesh.mtls.externalServices[1].name: "external-mysql" is a duplicate of mesh.mtls.externalServices[0].name; external service names must be unique, as each one names its ServiceEntry, DestinationRule and Pulumi resources',
        ],
        [
            external(externalMysql, { ...externalMysql, name: "mysql-x", port: 33060 }),
            'istio-mesh:mesh.mtls.externalServices[1].host: "mysql.example.com" is a duplicate of mesh.mtls.externalServices[0].host; two ServiceEntries and DestinationRules for one host conflict; list each host once',
        ],
        [
            external(externalMysql, { name: "replica", host: "replica.example.com", port: "3306" }),
            'istio-mesh:mesh.mtls.externalServices[1].port: "3306" is a duplicate of mesh.mtls.externalServices[0].port; two TCP external services on one address and port share one sidecar listener, which sends the traffic of both to one host; give each its own addresses',
        ],
    ])("%j", (raw, message) => {
        expect(problems(raw)).toEqual([message]);
    });

    test("a name, host and port are required of every external service, all reported at once", () => {
        expect(problems(external({ protocol: "TCP" }))).toEqual([
            "istio-mesh:mesh.mtls.externalServices[0].name: is required; every external service needs a name, a DNS label such as external-mysql",
            "istio-mesh:mesh.mtls.externalServices[0].host: is required; the DNS name the mesh clients call, such as mysql.example.com",
            "istio-mesh:mesh.mtls.externalServices[0].port: is required; the port the mesh clients call, a whole number from 1 to 65535",
        ]);
    });

    test.each([
        "10.0.0.5",
        "*.example.com",
        "MySQL.example.com",
        `${"a".repeat(64)}.example.com`,
        "mysql.example.com.",
    ])("a host that is not a fully qualified lowercase DNS name is refused: %s", (host) => {
        expect(problems(external({ ...externalMysql, host }))[0]).toMatch(
            /^istio-mesh:mesh\.mtls\.externalServices\[0\]\.host: ".*? is not a valid host; use a fully qualified DNS name/,
        );
    });

    test("TCP services on one port are told apart by their addresses", () => {
        const c = parse(
            external(
                { ...externalMysql, addresses: ["203.0.113.10"] },
                { name: "replica", host: "replica.example.com", port: 3306, addresses: ["203.0.113.11"] },
            ),
        );
        expect(c.mesh.mtls.externalServices).toHaveLength(2);
        expect(
            problems(
                external(
                    { ...externalMysql, addresses: ["203.0.113.10"] },
                    { name: "replica", host: "replica.example.com", port: 3306, addresses: ["203.0.113.10"] },
                ),
            ),
        ).toEqual([
            'istio-mesh:mesh.mtls.externalServices[1].addresses[0]: "203.0.113.10" is a duplicate of mesh.mtls.externalServices[0].addresses[0]; two TCP external services on one address and port share one sidecar listener, which sends the traffic of both to one host; give each its own addresses',
        ]);
    });

    test("a refused control-plane namespace is the root cause, not the exception placed in its fallback", () => {
        expect(
            problems({
                namespace: "Istio_System",
                ...exception({ ...mysql, namespace: "istio-system", mode: "STRICT" }),
            }),
        ).toEqual([
            "istio-mesh:namespace: \"Istio_System\" is not a valid namespace name; use a DNS label: lowercase letters, digits and '-', at most 63 characters",
        ]);
    });
});
