package main

// The ztunnel dump is ztunnel's own format: istioctl's ztunnel-config reads it
// (as `istioctl ztunnel-config workloads --file`), and what the end-to-end
// suite asserts on (protocol, service account, waypoint) reads as ztunnel
// would show it. The workloads and services are the ones istiod sends for an
// ambient namespace with a waypoint and a sidecar namespace beside it.

import (
	"bytes"
	"encoding/json"
	"net/netip"
	"regexp"
	"sort"
	"strings"
	"testing"

	"istio.io/istio/istioctl/pkg/writer/ztunnel/configdump"
	v3 "istio.io/istio/pilot/pkg/xds/v3"
	"istio.io/istio/pkg/adsc"
	"istio.io/istio/pkg/workloadapi"
	wsecurity "istio.io/istio/pkg/workloadapi/security"
)

func ip(s string) []byte { return netip.MustParseAddr(s).AsSlice() }

func podWorkload(ns, name, sa, addr string, tunnel workloadapi.TunnelProtocol, services ...string) *workloadapi.Address {
	svc := map[string]*workloadapi.PortList{}
	for _, s := range services {
		svc[s] = &workloadapi.PortList{Ports: []*workloadapi.Port{{ServicePort: 9080, TargetPort: 9080}}}
	}
	return &workloadapi.Address{Type: &workloadapi.Address_Workload{Workload: &workloadapi.Workload{
		Uid: "Kubernetes//Pod/" + ns + "/" + name, Name: name, Namespace: ns, Addresses: [][]byte{ip(addr)},
		ServiceAccount: sa, TunnelProtocol: tunnel, Node: "node-1", ClusterId: "Kubernetes",
		WorkloadName: "ratings", WorkloadType: workloadapi.WorkloadType_DEPLOYMENT, Services: svc,
	}}}
}

func service(ns, name, vip string, waypoint *workloadapi.GatewayAddress) *workloadapi.Address {
	return &workloadapi.Address{Type: &workloadapi.Address_Service{Service: &workloadapi.Service{
		Name: name, Namespace: ns, Hostname: name + "." + ns + ".svc.cluster.local",
		Addresses: []*workloadapi.NetworkAddress{{Address: ip(vip)}},
		Ports:     []*workloadapi.Port{{ServicePort: 9080, TargetPort: 9080}},
		Waypoint:  waypoint,
	}}}
}

func ambientReceived() *received {
	r := newReceived()
	put := func(name string, a *workloadapi.Address) { r.put(v3.AddressType, name, "1", a, adsc.EventAdd) }
	waypointByName := &workloadapi.GatewayAddress{
		Destination:   &workloadapi.GatewayAddress_Hostname{Hostname: &workloadapi.NamespacedHostname{Namespace: "shop-ambient", Hostname: "waypoint.shop-ambient.svc.cluster.local"}},
		HboneMtlsPort: 15008,
	}
	put("shop-ambient/ratings", service("shop-ambient", "ratings", "10.96.0.20", waypointByName))
	put("shop-ambient/waypoint", service("shop-ambient", "waypoint", "10.96.0.30", nil))
	put("shop-sidecar/ratings", service("shop-sidecar", "ratings", "10.96.0.40", nil))
	put("Kubernetes//Pod/shop-ambient/ratings-a", podWorkload("shop-ambient", "ratings-a", "", "10.244.0.5", workloadapi.TunnelProtocol_HBONE, "shop-ambient/ratings.shop-ambient.svc.cluster.local"))
	put("Kubernetes//Pod/shop-sidecar/ratings-b", podWorkload("shop-sidecar", "ratings-b", "reviews", "10.244.0.6", workloadapi.TunnelProtocol_NONE))
	r.put(v3.WorkloadAuthorizationType, "shop-ambient/allow-waypoint", "1", &wsecurity.Authorization{
		Name: "allow-waypoint", Namespace: "shop-ambient", Scope: wsecurity.Scope_WORKLOAD_SELECTOR,
		Groups: []*wsecurity.Group{{Rules: []*wsecurity.Rules{{Matches: []*wsecurity.Match{{
			ServiceAccounts: []*wsecurity.ServiceAccountMatch{{Namespace: "shop-ambient", ServiceAccount: "waypoint"}},
		}}}}}},
	}, adsc.EventAdd)
	return r
}

func TestZtunnelDumpInZtunnelsFormat(t *testing.T) {
	b, err := ztunnelConfigDump(ambientReceived())
	if err != nil {
		t.Fatal(err)
	}
	var dump struct {
		Workloads []map[string]any `json:"workloads"`
		Services  []map[string]any `json:"services"`
		Policies  []map[string]any `json:"policies"`
	}
	if err := json.Unmarshal(b, &dump); err != nil {
		t.Fatal(err)
	}
	byName := map[string]map[string]any{}
	for _, w := range dump.Workloads {
		byName[w["name"].(string)] = w
	}
	a, s := byName["ratings-a"], byName["ratings-b"]
	for field, want := range map[string]any{"protocol": "HBONE", "serviceAccount": "default", "namespace": "shop-ambient", "workloadType": "deployment", "status": "Healthy"} {
		if a[field] != want {
			t.Errorf("ambient workload %s = %v, want %v", field, a[field], want)
		}
	}
	if got := a["workloadIps"].([]any); len(got) != 1 || got[0] != "10.244.0.5" {
		t.Errorf("ambient workload workloadIps = %v, want [10.244.0.5]", got)
	}
	if s["protocol"] != "TCP" || s["serviceAccount"] != "reviews" || s["waypoint"] != nil {
		t.Errorf("sidecar workload: protocol %v, serviceAccount %v, waypoint %v; want TCP, reviews, none", s["protocol"], s["serviceAccount"], s["waypoint"])
	}
	var svc map[string]any
	for _, x := range dump.Services {
		if x["namespace"] == "shop-ambient" && x["name"] == "ratings" {
			svc = x
		}
	}
	if wp, _ := svc["waypoint"].(map[string]any); wp["destination"] != "shop-ambient/waypoint.shop-ambient.svc.cluster.local" {
		t.Errorf("service waypoint = %v, want destination shop-ambient/waypoint.shop-ambient.svc.cluster.local", svc["waypoint"])
	}
	if vips := svc["vips"].([]any); len(vips) != 1 || vips[0] != "/10.96.0.20" {
		t.Errorf("service vips = %v, want [/10.96.0.20]", vips)
	}
	eps := svc["endpoints"].(map[string]any)
	if keys := sortedKeys(eps); len(keys) != 1 || keys[0] != "Kubernetes//Pod/shop-ambient/ratings-a:/10.244.0.5" {
		t.Errorf("service endpoints = %v, want the ambient pod at /10.244.0.5", keys)
	}
}

// istioctl reads the dump as it reads a real ztunnel's: the ambient pod over
// HBONE, its Service served by the waypoint Service, the sidecar pod on TCP.
func TestZtunnelDumpReadByIstioctl(t *testing.T) {
	b, err := ztunnelConfigDump(ambientReceived())
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	cw := &configdump.ConfigWriter{Stdout: &out}
	if err := cw.Prime(b); err != nil {
		t.Fatal(err)
	}
	if err := cw.PrintWorkloadSummary(configdump.WorkloadFilter{}); err != nil {
		t.Fatal(err)
	}
	if err := cw.PrintServiceSummary(configdump.ServiceFilter{}); err != nil {
		t.Fatal(err)
	}
	if err := cw.PrintPolicySummary(configdump.PolicyFilter{}); err != nil {
		t.Fatal(err)
	}
	got := regexp.MustCompile(` +`).ReplaceAllString(out.String(), " ")
	for _, want := range []string{
		"shop-ambient ratings-a 10.244.0.5 node-1 None HBONE",
		"shop-sidecar ratings-b 10.244.0.6 node-1 None TCP",
		"shop-ambient ratings 10.96.0.20 waypoint 1/1",
		"shop-sidecar ratings 10.96.0.40 None 0/0",
		"shop-ambient allow-waypoint Allow WorkloadSelector",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("istioctl's summary lacks %q:\n%s", want, got)
		}
	}
}

// sortedKeys reads a map's keys in a stable order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
