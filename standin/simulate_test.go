package main

import (
	"encoding/json"
	"strings"
	"testing"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"

	meshconfig "istio.io/api/mesh/v1alpha1"
	"istio.io/istio/pilot/pkg/config/kube/crd"
	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/networking/core"
	"istio.io/istio/pkg/config/mesh"
	"istio.io/istio/pkg/util/protomarshal"
)

// The app stack's rules as its components write them (components/traffic/istioSpecs.ts),
// the mesh's STRICT policy with the MySQL exception and external MySQL
// (components/mtls.ts), on services declared as ServiceEntries: Istio's config
// generator builds each proxy's configuration from them, which is dumped as Envoy
// JSON and read back, as the stand-in's dump is.
const services = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]
  addresses: [10.96.0.20]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{name: http, number: 9080, protocol: HTTP}]
  endpoints:
  - {address: 10.0.0.21, labels: {app: reviews, version: v1}}
  - {address: 10.0.0.22, labels: {app: reviews, version: v2}}
  - {address: 10.0.0.23, labels: {app: reviews, version: v3}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ratings, namespace: bookinfo}
spec:
  hosts: [ratings.bookinfo.svc.cluster.local]
  addresses: [10.96.0.30]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{name: http, number: 9080, protocol: HTTP}]
  endpoints: [{address: 10.0.0.31, labels: {app: ratings, version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: productpage, namespace: bookinfo}
spec:
  hosts: [productpage.bookinfo.svc.cluster.local]
  addresses: [10.96.0.10]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{name: http, number: 9080, protocol: HTTP}]
  endpoints: [{address: 10.0.0.11, labels: {app: productpage, version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: mysql, namespace: db}
spec:
  hosts: [mysql.db.svc.cluster.local]
  addresses: [10.96.0.40]
  location: MESH_INTERNAL
  resolution: STATIC
  ports:
  - {name: tcp-mysql, number: 3306, protocol: TCP}
  - {name: http-admin, number: 8080, protocol: HTTP}
  endpoints: [{address: 10.0.0.41, labels: {app: mysql}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  hosts: [istio-ingressgateway.istio-system.svc.cluster.local]
  addresses: [10.96.0.50]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{name: http2, number: 80, protocol: HTTP2}]
  endpoints: [{address: 10.0.0.51, labels: {app: istio-ingressgateway, istio: ingressgateway}}]
---
`

const appRoutes = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo}
spec:
  host: reviews
  subsets:
  - {name: v1, labels: {version: v1}}
  - {name: v2, labels: {version: v2}}
  - {name: v3, labels: {version: v3}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  http:
  - name: canary
    match: [{headers: {lab: {exact: canary}}}]
    route: [{destination: {host: reviews, subset: v3, port: {number: 9080}}}]
    timeout: 0.5s
    retries: {attempts: 3, perTryTimeout: 0.2s, retryOn: "5xx,connect-failure"}
  - name: weighted
    route:
    - {destination: {host: reviews, subset: v1, port: {number: 9080}}, weight: 90}
    - {destination: {host: reviews, subset: v2, port: {number: 9080}}, weight: 10}
    timeout: 0.5s
    retries: {attempts: 3, perTryTimeout: 0.2s, retryOn: "5xx,connect-failure"}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ratings, namespace: bookinfo}
spec:
  host: ratings
  subsets: [{name: v1, labels: {version: v1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: bookinfo}
spec:
  hosts: [ratings]
  http:
  - name: weighted
    route: [{destination: {host: ratings, subset: v1, port: {number: 9080}}, weight: 100}]
    fault:
      delay: {fixedDelay: 7s, percentage: {value: 10}}
      abort: {httpStatus: 500, percentage: {value: 1}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: bookinfo}
spec:
  selector: {app: istio-ingressgateway, istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo-gateway, namespace: bookinfo}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - {name: path-0, match: [{uri: {exact: /productpage}}], route: [{destination: {host: productpage, port: {number: 9080}}}]}
  - {name: path-1, match: [{uri: {prefix: /static}}], route: [{destination: {host: productpage, port: {number: 9080}}}]}
---
`

const mtlsPolicy = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec:
  mtls: {mode: %MODE%}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: mysql, namespace: db}
spec:
  selector: {matchLabels: {app: mysql}}
  portLevelMtls: {"3306": {mode: PERMISSIVE}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: external-mysql, namespace: istio-system}
spec:
  hosts: [mysql.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{name: tcp-3306, number: 3306, protocol: TCP}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: external-mysql, namespace: istio-system}
spec:
  host: mysql.example.com
  trafficPolicy: {tls: {mode: DISABLE}}
`

type proxySpec struct {
	ip, namespace string
	labels        map[string]string
	router        bool
}

var (
	productpage = proxySpec{ip: "10.0.0.11", namespace: "bookinfo", labels: map[string]string{"app": "productpage", "version": "v1"}}
	mysqlPod    = proxySpec{ip: "10.0.0.41", namespace: "db", labels: map[string]string{"app": "mysql"}}
	ingress     = proxySpec{
		ip: "10.0.0.51", namespace: "istio-system", router: true,
		labels: map[string]string{"app": "istio-ingressgateway", "istio": "ingressgateway"},
	}
)

// dumpFor generates the proxy's configuration with Istio's config generator
// and returns it as an Envoy config dump (JSON), the form the stand-in writes.
func dumpFor(t *testing.T, configs string, egress meshconfig.MeshConfig_OutboundTrafficPolicy_Mode, p proxySpec) []byte {
	t.Helper()
	m := mesh.DefaultMeshConfig()
	m.OutboundTrafficPolicy = &meshconfig.MeshConfig_OutboundTrafficPolicy{Mode: egress}
	parsed, _, err := crd.ParseInputs(configs)
	if err != nil {
		t.Fatal(err)
	}
	for i := range parsed {
		// As the Kubernetes registry sets it: short hosts such as "reviews" resolve to <name>.<namespace>.svc.cluster.local.
		parsed[i].Domain = "cluster.local"
	}
	cg := core.NewConfigGenTest(t, core.TestOptions{Configs: parsed, MeshConfig: m})
	proxy := &model.Proxy{
		IPAddresses:     []string{p.ip},
		ConfigNamespace: p.namespace,
		Labels:          p.labels,
		Metadata:        &model.NodeMetadata{Labels: p.labels, Namespace: p.namespace},
		ID:              "pod." + p.namespace,
	}
	if p.router {
		proxy.Type = model.Router
	}
	proxy = cg.SetupProxy(proxy)
	listeners := cg.Listeners(proxy)
	routes := cg.RoutesFromListeners(proxy, listeners)
	clusters := cg.Clusters(proxy)

	pack := func(m proto.Message) *anypb.Any {
		a, err := anypb.New(m)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	ld := &adminv3.ListenersConfigDump{}
	for _, l := range listeners {
		ld.DynamicListeners = append(ld.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
			Name: l.GetName(), ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{Listener: pack(l)},
		})
	}
	rd := &adminv3.RoutesConfigDump{}
	for _, r := range routes {
		rd.DynamicRouteConfigs = append(rd.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{RouteConfig: pack(r)})
	}
	cd := &adminv3.ClustersConfigDump{}
	for _, c := range clusters {
		cd.DynamicActiveClusters = append(cd.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{Cluster: pack(c)})
	}
	out, err := protomarshal.ToJSON(&adminv3.ConfigDump{Configs: []*anypb.Any{pack(cd), pack(ld), pack(rd)}})
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

func load(t *testing.T, dump []byte) *simConfig {
	t.Helper()
	c, err := loadConfigDump(dump)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func where(t *testing.T, c *simConfig, req simRequest) simAnswer {
	t.Helper()
	a, err := c.Where(req)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func strictConfigs(mode string) string {
	return services + appRoutes + strings.ReplaceAll(mtlsPolicy, "%MODE%", mode)
}

func u32(v uint32) *uint32 { return &v }

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func equalJSON(t *testing.T, what string, got, want any) {
	t.Helper()
	if g, w := asJSON(t, got), asJSON(t, want); g != w {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func TestReviewsRoute(t *testing.T) {
	c := load(t, dumpFor(t, strictConfigs("STRICT"), meshconfig.MeshConfig_OutboundTrafficPolicy_ALLOW_ANY, productpage))
	half, fifth := 0.5, 0.2
	retries := &simRetries{Attempts: 3, PerTryTimeoutSeconds: &fifth, RetryOn: []string{"5xx", "connect-failure"}}

	t.Run("without the canary header: v1 90 and v2 10, as weights", func(t *testing.T) {
		a := where(t, c, simRequest{Port: 9080, Host: "reviews", Path: "/reviews/0"})
		if a.Error != "" || a.Listener != "0.0.0.0_9080" || a.VirtualHost != "reviews.bookinfo.svc.cluster.local:9080" {
			t.Fatalf("matched %s", asJSON(t, a))
		}
		equalJSON(t, "clusters", a.Clusters, []simCluster{
			{Name: "outbound|9080|v1|reviews.bookinfo.svc.cluster.local", Weight: u32(90), Type: "EDS", UpstreamTLS: "istio-mtls-auto"},
			{Name: "outbound|9080|v2|reviews.bookinfo.svc.cluster.local", Weight: u32(10), Type: "EDS", UpstreamTLS: "istio-mtls-auto"},
		})
		if a.Route.Index != 1 || a.Route.Name != "weighted" {
			t.Errorf("route %s, want #1 weighted", asJSON(t, a.Route))
		}
		equalJSON(t, "timeout", a.Route.TimeoutSeconds, &half)
		equalJSON(t, "retries", a.Route.Retries, retries)
	})

	t.Run("with lab: canary: v3, by the route ahead of the weights", func(t *testing.T) {
		a := where(t, c, simRequest{Port: 9080, Host: "reviews:9080", Path: "/", Headers: map[string]string{"Lab": "canary"}})
		equalJSON(t, "clusters", a.Clusters, []simCluster{
			{Name: "outbound|9080|v3|reviews.bookinfo.svc.cluster.local", Type: "EDS", UpstreamTLS: "istio-mtls-auto"},
		})
		if a.Route.Index != 0 || a.Route.Match != "prefix /, header lab = canary" {
			t.Errorf("route %s, want #0 on the header", asJSON(t, a.Route))
		}
		equalJSON(t, "retries", a.Route.Retries, retries)
	})

	t.Run("another value of the header: the weights", func(t *testing.T) {
		a := where(t, c, simRequest{Port: 9080, Host: "reviews", Headers: map[string]string{"lab": "stable"}})
		if a.Route.Index != 1 || len(a.Clusters) != 2 {
			t.Errorf("got %s", asJSON(t, a))
		}
	})
}

func TestRatingsFaults(t *testing.T) {
	c := load(t, dumpFor(t, strictConfigs("STRICT"), meshconfig.MeshConfig_OutboundTrafficPolicy_ALLOW_ANY, productpage))
	a := where(t, c, simRequest{Port: 9080, Host: "ratings.bookinfo.svc.cluster.local", Path: "/ratings/0"})
	equalJSON(t, "fault", a.Route.Fault, &simFault{
		Delay: &simDelay{FixedDelaySeconds: 7, Percent: 10},
		Abort: &simAbort{HTTPStatus: 500, Percent: 1},
	})
	equalJSON(t, "clusters", a.Clusters, []simCluster{
		// One destination of weight 100: Istio writes a plain cluster, no weighted choice.
		{Name: "outbound|9080|v1|ratings.bookinfo.svc.cluster.local", Type: "EDS", UpstreamTLS: "istio-mtls-auto"},
	})
}

func TestInboundMTLS(t *testing.T) {
	for _, tc := range []struct {
		mode                   string
		adminStrict, mysqlOpen bool
	}{
		{mode: "STRICT", adminStrict: true, mysqlOpen: true},
		{mode: "PERMISSIVE", adminStrict: false, mysqlOpen: true},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			c := load(t, dumpFor(t, strictConfigs(tc.mode), meshconfig.MeshConfig_OutboundTrafficPolicy_ALLOW_ANY, mysqlPod))
			admin := where(t, c, simRequest{Direction: simInbound, Port: 8080})
			if *admin.RequiresMTLS != tc.adminStrict || !admin.Accepts["mtls"] {
				t.Errorf("port 8080: %s", asJSON(t, admin))
			}
			if tc.adminStrict && admin.Error == "" {
				t.Errorf("port 8080: plain text was forwarded under STRICT: %s", asJSON(t, admin))
			}
			mysql := where(t, c, simRequest{Direction: simInbound, Port: 3306, Protocol: "tcp"})
			if *mysql.RequiresMTLS || !mysql.Accepts["plaintext"] || !mysql.Accepts["mtls"] {
				t.Errorf("port 3306 (the exception): %s", asJSON(t, mysql))
			}
			equalJSON(t, "3306 clusters", mysql.Clusters, []simCluster{{Name: "inbound|3306||", Type: "ORIGINAL_DST", UpstreamTLS: "none"}})
			mtls := where(t, c, simRequest{Direction: simInbound, Port: 8080, TLS: "mtls"})
			if mtls.Error != "" || mtls.Clusters[0].Name != "inbound|8080||" {
				t.Errorf("port 8080 mTLS: %s", asJSON(t, mtls))
			}
		})
	}
}

func TestExternalMySQLWithoutIstioMTLS(t *testing.T) {
	c := load(t, dumpFor(t, strictConfigs("STRICT"), meshconfig.MeshConfig_OutboundTrafficPolicy_REGISTRY_ONLY, productpage))
	a := where(t, c, simRequest{Port: 3306, Protocol: "tcp", Host: "mysql.example.com"})
	equalJSON(t, "clusters", a.Clusters, []simCluster{{Name: "outbound|3306||mysql.example.com", Type: "STRICT_DNS", UpstreamTLS: "none"}})
}

func TestEgressPolicy(t *testing.T) {
	for _, tc := range []struct {
		mode           meshconfig.MeshConfig_OutboundTrafficPolicy_Mode
		tcpCluster     string
		httpCluster    string
		httpDirect     uint32
		httpVirtualHst string
	}{
		{mode: meshconfig.MeshConfig_OutboundTrafficPolicy_REGISTRY_ONLY, tcpCluster: "BlackHoleCluster", httpDirect: 502, httpVirtualHst: "block_all"},
		{mode: meshconfig.MeshConfig_OutboundTrafficPolicy_ALLOW_ANY, tcpCluster: "PassthroughCluster", httpCluster: "PassthroughCluster", httpVirtualHst: "allow_any"},
	} {
		t.Run(tc.mode.String(), func(t *testing.T) {
			c := load(t, dumpFor(t, strictConfigs("STRICT"), tc.mode, productpage))
			tls := where(t, c, simRequest{Address: "203.0.113.7", Port: 443, Protocol: "tcp", TLS: "tls", Host: "unknown.example.org"})
			if tls.Listener != "virtualOutbound" || len(tls.Clusters) != 1 || tls.Clusters[0].Name != tc.tcpCluster {
				t.Errorf("TLS to an unknown host: %s", asJSON(t, tls))
			}
			h := where(t, c, simRequest{Port: 80, Host: "unknown.example.org"})
			got := ""
			if len(h.Clusters) == 1 {
				got = h.Clusters[0].Name
			}
			if h.VirtualHost != tc.httpVirtualHst || got != tc.httpCluster || h.Route.DirectResponse != tc.httpDirect {
				t.Errorf("HTTP to an unknown host: %s", asJSON(t, h))
			}
		})
	}
}

func TestIngressGatewayPaths(t *testing.T) {
	c := load(t, dumpFor(t, strictConfigs("STRICT"), meshconfig.MeshConfig_OutboundTrafficPolicy_ALLOW_ANY, ingress))
	productpageCluster := "outbound|9080||productpage.bookinfo.svc.cluster.local"
	for _, tc := range []struct{ path, cluster string }{
		{"/productpage", productpageCluster},
		{"/productpage?u=normal", productpageCluster},
		{"/static/css/a.css", productpageCluster},
		{"/static", productpageCluster},
		{"/productpage/x", ""}, // exact: nothing below it
		{"/", ""},
	} {
		a := where(t, c, simRequest{Direction: simGateway, Port: 80, Host: "bookinfo.example.com", Path: tc.path})
		got := ""
		if len(a.Clusters) == 1 {
			got = a.Clusters[0].Name
		}
		if got != tc.cluster {
			t.Errorf("%s: got %s", tc.path, asJSON(t, a))
		}
		if tc.cluster == "" && a.Error != "no route matched" {
			t.Errorf("%s: want no route, got %s", tc.path, asJSON(t, a))
		}
	}
}

func TestRequestChecked(t *testing.T) {
	c := &simConfig{}
	_, err := c.Where(simRequest{Direction: "sideways", Port: 0, TLS: "ssl"})
	want := `invalid request: direction "sideways" is not one of outbound, inbound, gateway; tls "ssl" is not one of plaintext, tls, mtls; port 0 is not a port (1-65535)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v\nwant %s", err, want)
	}
	if _, err := loadConfigDump([]byte(`{"configs": []}`)); err != errNoSimConfig {
		t.Errorf("empty dump: got %v", err)
	}
}
