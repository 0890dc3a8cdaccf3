package main

// What a ztunnel received, written as ztunnel's own admin /config_dump shows it
// (the JSON that `istioctl ztunnel-config ... --file` reads, whose Go types are
// istioctl's configdump package): addresses as text ("10.0.0.5" for a workload,
// "<network>/<ip>" for a VIP), a waypoint as its destination ("<ns>/<hostname>"
// or "<network>/<ip>"), enums in ztunnel's spelling (HBONE/TCP, Healthy). The
// workload API's protobuf JSON would carry the addresses as base64 bytes and
// drop a zero enum (a workload without a tunnel would have no protocol at all).

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"strings"

	"istio.io/istio/istioctl/pkg/writer/ztunnel/configdump"
	v3 "istio.io/istio/pilot/pkg/xds/v3"
	"istio.io/istio/pkg/workloadapi"
	wsecurity "istio.io/istio/pkg/workloadapi/security"
)

// ztunnelWorkload is istioctl's view of a workload plus the one field of
// ztunnel's dump it leaves out: whether the workload speaks HBONE itself.
type ztunnelWorkload struct {
	*configdump.ZtunnelWorkload
	NativeTunnel bool `json:"nativeTunnel,omitempty"`
}

type ztunnelDump struct {
	Workloads []ztunnelWorkload            `json:"workloads"`
	Services  []*configdump.ZtunnelService `json:"services"`
	Policies  []*configdump.ZtunnelPolicy  `json:"policies"`
}

// ztunnelConfigDump lists what a ztunnel received: workloads and services (the
// two kinds of Address) and authorization policies, each sorted by name.
func ztunnelConfigDump(r *received) ([]byte, error) {
	out := ztunnelDump{Workloads: []ztunnelWorkload{}, Services: []*configdump.ZtunnelService{}, Policies: []*configdump.ZtunnelPolicy{}}
	var workloads []*workloadapi.Workload
	servicesByKey := map[string]*configdump.ZtunnelService{}
	for _, a := range r.snapshot(v3.AddressType) {
		addr := a.Message.(*workloadapi.Address)
		if w := addr.GetWorkload(); w != nil {
			zw, err := ztunnelWorkloadOf(w)
			if err != nil {
				return nil, fmt.Errorf("workload %s: %v", a.Name, err)
			}
			out.Workloads = append(out.Workloads, zw)
			workloads = append(workloads, w)
		}
		if s := addr.GetService(); s != nil {
			zs, err := ztunnelServiceOf(s)
			if err != nil {
				return nil, fmt.Errorf("service %s: %v", a.Name, err)
			}
			out.Services = append(out.Services, zs)
			servicesByKey[s.GetNamespace()+"/"+s.GetHostname()] = zs
		}
	}
	// ztunnel lists a service's endpoints under the service; istiod sends them
	// the other way round, as the services each workload belongs to.
	for _, w := range workloads {
		for key, ports := range w.GetServices() {
			svc := servicesByKey[key]
			if svc == nil {
				continue // a service this ztunnel was not sent (yet): ztunnel keeps the endpoint aside too
			}
			portMap := map[uint16]uint16{}
			for _, p := range ports.GetPorts() {
				portMap[uint16(p.GetServicePort())] = uint16(p.GetTargetPort())
			}
			for _, raw := range w.GetAddresses() {
				ip, err := ipOf(raw)
				if err != nil {
					return nil, fmt.Errorf("workload %s: %v", w.GetUid(), err)
				}
				address := w.GetNetwork() + "/" + ip
				svc.Endpoints[w.GetUid()+":"+address] = &configdump.ZtunnelEndpoint{
					WorkloadUID: w.GetUid(), Service: key, Address: address, Port: portMap,
				}
			}
		}
	}
	for _, p := range r.snapshot(v3.WorkloadAuthorizationType) {
		zp, err := ztunnelPolicyOf(p.Message.(*wsecurity.Authorization))
		if err != nil {
			return nil, fmt.Errorf("policy %s: %v", p.Name, err)
		}
		out.Policies = append(out.Policies, zp)
	}
	return json.MarshalIndent(out, "", "  ")
}

// ipOf is the text of an address of the workload API (4 or 16 bytes).
func ipOf(b []byte) (string, error) {
	a, ok := netip.AddrFromSlice(b)
	if !ok {
		return "", fmt.Errorf("address of %d bytes is no IP", len(b))
	}
	return a.Unmap().String(), nil
}

func ztunnelWorkloadOf(w *workloadapi.Workload) (ztunnelWorkload, error) {
	ips := []string{}
	for _, raw := range w.GetAddresses() {
		ip, err := ipOf(raw)
		if err != nil {
			return ztunnelWorkload{}, err
		}
		ips = append(ips, ip)
	}
	waypoint, err := gatewayAddressOf(w.GetWaypoint())
	if err != nil {
		return ztunnelWorkload{}, fmt.Errorf("waypoint: %v", err)
	}
	networkGateway, err := gatewayAddressOf(w.GetNetworkGateway())
	if err != nil {
		return ztunnelWorkload{}, fmt.Errorf("network gateway: %v", err)
	}
	zw := &configdump.ZtunnelWorkload{
		UID:                   w.GetUid(),
		WorkloadIPs:           ips,
		Waypoint:              waypoint,
		NetworkGateway:        networkGateway,
		Protocol:              tunnelProtocolName(w.GetTunnelProtocol()),
		Name:                  w.GetName(),
		Namespace:             w.GetNamespace(),
		ServiceAccount:        orDefault(w.GetServiceAccount(), "default"),
		WorkloadName:          w.GetWorkloadName(),
		WorkloadType:          strings.ToLower(w.GetWorkloadType().String()),
		CanonicalName:         w.GetCanonicalName(),
		CanonicalRevision:     w.GetCanonicalRevision(),
		ClusterID:             w.GetClusterId(),
		TrustDomain:           orDefault(w.GetTrustDomain(), "cluster.local"),
		Node:                  w.GetNode(),
		Network:               w.GetNetwork(),
		Status:                map[workloadapi.WorkloadStatus]string{workloadapi.WorkloadStatus_HEALTHY: "Healthy", workloadapi.WorkloadStatus_UNHEALTHY: "Unhealthy"}[w.GetStatus()],
		Hostname:              w.GetHostname(),
		Capacity:              w.GetCapacity().GetValue(),
		AuthorizationPolicies: w.GetAuthorizationPolicies(),
		Locality: configdump.Locality{
			Region: w.GetLocality().GetRegion(), Zone: w.GetLocality().GetZone(), Subzone: w.GetLocality().GetSubzone(),
		},
	}
	if t := w.GetApplicationTunnel(); t != nil {
		zw.ApplicationTunnel.Protocol = t.GetProtocol().String()
		if t.GetPort() != 0 {
			port := uint16(t.GetPort())
			zw.ApplicationTunnel.Port = &port
		}
	}
	return ztunnelWorkload{ZtunnelWorkload: zw, NativeTunnel: w.GetNativeTunnel()}, nil
}

// tunnelProtocolName spells the protocol a workload is reached with as
// ztunnel's dump does: no tunnel is plain TCP.
func tunnelProtocolName(p workloadapi.TunnelProtocol) string {
	switch p {
	case workloadapi.TunnelProtocol_HBONE:
		return "HBONE"
	case workloadapi.TunnelProtocol_LEGACY_ISTIO_MTLS:
		return "LegacyIstioMtls"
	default:
		return "TCP"
	}
}

// gatewayAddressOf is a waypoint's or network gateway's destination: a
// Service by "<ns>/<hostname>", or an address by "<network>/<ip>".
func gatewayAddressOf(g *workloadapi.GatewayAddress) (*configdump.GatewayAddress, error) {
	if g == nil {
		return nil, nil
	}
	if h := g.GetHostname(); h != nil {
		return &configdump.GatewayAddress{Destination: h.GetNamespace() + "/" + h.GetHostname()}, nil
	}
	if a := g.GetAddress(); a != nil {
		ip, err := ipOf(a.GetAddress())
		if err != nil {
			return nil, err
		}
		return &configdump.GatewayAddress{Destination: a.GetNetwork() + "/" + ip}, nil
	}
	return nil, fmt.Errorf("neither hostname nor address")
}

func ztunnelServiceOf(s *workloadapi.Service) (*configdump.ZtunnelService, error) {
	vips := []string{}
	for _, a := range s.GetAddresses() {
		ip, err := ipOf(a.GetAddress())
		if err != nil {
			return nil, err
		}
		vips = append(vips, a.GetNetwork()+"/"+ip)
	}
	ports := map[string]int{}
	for _, p := range s.GetPorts() {
		ports[fmt.Sprint(p.GetServicePort())] = int(p.GetTargetPort())
	}
	waypoint, err := gatewayAddressOf(s.GetWaypoint())
	if err != nil {
		return nil, fmt.Errorf("waypoint: %v", err)
	}
	zs := &configdump.ZtunnelService{
		Name:            s.GetName(),
		Namespace:       s.GetNamespace(),
		Hostname:        s.GetHostname(),
		Addresses:       vips,
		Ports:           ports,
		Waypoint:        waypoint,
		Endpoints:       map[string]*configdump.ZtunnelEndpoint{},
		SubjectAltNames: s.GetSubjectAltNames(),
		IPFamilies:      s.GetIpFamilies().String(),
		Canonical:       s.GetCanonical(),
	}
	if lb := s.GetLoadBalancing(); lb != nil {
		prefs := []string{}
		for _, p := range lb.GetRoutingPreference() {
			prefs = append(prefs, p.String())
		}
		zs.LoadBalancer = &configdump.LoadBalancer{Mode: lb.GetMode().String(), RoutingPreferences: prefs, HealthPolicy: lb.GetHealthPolicy().String()}
	}
	return zs, nil
}

func ztunnelPolicyOf(p *wsecurity.Authorization) (*configdump.ZtunnelPolicy, error) {
	scope := map[wsecurity.Scope]string{
		wsecurity.Scope_GLOBAL: "Global", wsecurity.Scope_NAMESPACE: "Namespace", wsecurity.Scope_WORKLOAD_SELECTOR: "WorkloadSelector",
	}[p.GetScope()]
	action := map[wsecurity.Action]string{wsecurity.Action_ALLOW: "Allow", wsecurity.Action_DENY: "Deny"}[p.GetAction()]
	rules := [][][]*configdump.PolicyMatch{}
	for _, g := range p.GetGroups() {
		group := [][]*configdump.PolicyMatch{}
		for _, rule := range g.GetRules() {
			matches := []*configdump.PolicyMatch{}
			for _, m := range rule.GetMatches() {
				pm, err := policyMatchOf(m)
				if err != nil {
					return nil, err
				}
				matches = append(matches, pm)
			}
			group = append(group, matches)
		}
		rules = append(rules, group)
	}
	return &configdump.ZtunnelPolicy{Name: p.GetName(), Namespace: p.GetNamespace(), Scope: scope, Action: action, Rules: rules}, nil
}

func policyMatchOf(m *wsecurity.Match) (*configdump.PolicyMatch, error) {
	strs := func(in []*wsecurity.StringMatch) []configdump.StringMatch {
		var out []configdump.StringMatch
		for _, s := range in {
			switch {
			case s.GetPresence() != nil:
				out = append(out, configdump.StringMatch{Presence: struct{}{}})
			case s.GetPrefix() != "":
				out = append(out, configdump.StringMatch{Prefix: s.GetPrefix()})
			case s.GetSuffix() != "":
				out = append(out, configdump.StringMatch{Suffix: s.GetSuffix()})
			default:
				out = append(out, configdump.StringMatch{Exact: s.GetExact()})
			}
		}
		return out
	}
	var err error
	cidrs := func(in []*wsecurity.Address) []string {
		var out []string
		for _, a := range in {
			ip, e := ipOf(a.GetAddress())
			if e != nil {
				err = e
				continue
			}
			out = append(out, fmt.Sprintf("%s/%d", ip, a.GetLength()))
		}
		return out
	}
	ports := func(in []uint32) []uint16 {
		var out []uint16
		for _, p := range in {
			out = append(out, uint16(p))
		}
		return out
	}
	accounts := func(in []*wsecurity.ServiceAccountMatch) []configdump.ServiceAccountMatch {
		var out []configdump.ServiceAccountMatch
		for _, a := range in {
			out = append(out, configdump.ServiceAccountMatch{Namespace: a.GetNamespace(), ServiceAccount: a.GetServiceAccount()})
		}
		return out
	}
	pm := &configdump.PolicyMatch{
		Namespaces: strs(m.GetNamespaces()), NotNamespaces: strs(m.GetNotNamespaces()),
		Principals: strs(m.GetPrincipals()), NotPrincipals: strs(m.GetNotPrincipals()),
		SourceIps: cidrs(m.GetSourceIps()), NotSourceIps: cidrs(m.GetNotSourceIps()),
		DestinationIps: cidrs(m.GetDestinationIps()), NotDestinationIps: cidrs(m.GetNotDestinationIps()),
		DestinationPorts: ports(m.GetDestinationPorts()), NotDestinationPorts: ports(m.GetNotDestinationPorts()),
		ServiceAccounts: accounts(m.GetServiceAccounts()), NotServiceAccounts: accounts(m.GetNotServiceAccounts()),
	}
	return pm, err
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
