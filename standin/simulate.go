package main

// The simulate command: "where does this request go" from the configuration a
// proxy received from istiod, as an Envoy config dump (the JSON of Envoy's
// /config_dump, which `istioctl proxy-config --file` also reads).
//
// The listener, filter chain and virtual host are chosen by Istio's own simulation
// (istio.io/istio/pilot/pkg/simulation, the code Istio's unit tests use for the same
// question), built here from the received resources instead of its fake server.
// What that code does not cover is done here, and only that:
//   - the route: Istio's simulation matches paths only (its own TODO); here the
//     route is chosen by path, headers and query parameters, in Envoy's order;
//   - the route's action as Envoy would take it, reported rather than carried out:
//     every weighted cluster with its weight (never a sampled one), the timeout,
//     the retry policy, the fault injection, a direct response or redirect;
//   - the clusters' upstream TLS (Istio mTLS, Istio mTLS only towards endpoints
//     with a sidecar, other TLS, or none);
//   - for inbound requests, which of plain text, TLS and mTLS the matched port
//     accepts (the same request re-run through Istio's simulation in each mode).
//
// Not covered (see docs/proxy-standin.md): anything decided at run time (the
// weighted pick, retries happening, a fault firing, outlier detection, load
// balancing between endpoints), listener filters other than the TLS and HTTP
// inspectors, source-based filter chain matches, RBAC and other HTTP filters'
// decisions, Lua/Wasm, and URI-template path matches.

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	hcm "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	tcpproxy "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/tcp_proxy/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/proto"

	"istio.io/istio/pilot/pkg/simulation"
)

// Directions a request can take into the proxy.
const (
	// Outbound: the application calls out; iptables sends it to the sidecar's 15001.
	simOutbound = "outbound"
	// Inbound: a peer calls the application; iptables sends it to the sidecar's 15006.
	simInbound = "inbound"
	// Gateway: a gateway (router) proxy, no iptables: the listener on the request's port.
	simGateway = "gateway"
)

// simRequest is one request as a client sends it.
type simRequest struct {
	// Direction: outbound (default), inbound or gateway.
	Direction string `json:"direction"`
	// Address is the destination IP; matters for listeners bound to a service's VIP
	// (TCP services). Default: an address no listener is bound to.
	Address string `json:"address,omitempty"`
	// Port is the destination port (required).
	Port int `json:"port"`
	// Host is the Host header of an HTTP request and the SNI of a TLS one.
	Host string `json:"host,omitempty"`
	// Path, with an optional query string. Default "/".
	Path string `json:"path,omitempty"`
	// Headers other than Host, by name.
	Headers map[string]string `json:"headers,omitempty"`
	// Protocol: http (default), http2 or tcp.
	Protocol string `json:"protocol"`
	// TLS: plaintext (default), tls (the application's own TLS) or mtls (Istio mTLS from a peer sidecar).
	TLS string `json:"tls"`
}

// simAnswer is where the request goes, as far as the configuration decides it.
type simAnswer struct {
	Request simRequest `json:"request"`
	// Listener and FilterChain matched (Istio's simulation).
	Listener    string `json:"listener,omitempty"`
	FilterChain string `json:"filterChain,omitempty"`
	// RouteConfig is the RDS route configuration's name (empty when inline).
	RouteConfig string `json:"routeConfig,omitempty"`
	VirtualHost string `json:"virtualHost,omitempty"`
	// Route is the chosen route (empty for TCP).
	Route *simRoute `json:"route,omitempty"`
	// Clusters the request may go to: one, or each weighted choice with its weight.
	Clusters []simCluster `json:"clusters,omitempty"`
	// Accepts says, for an inbound request, whether the matched port takes it in
	// each TLS mode: a port that requires mTLS accepts only "mtls".
	Accepts map[string]bool `json:"accepts,omitempty"`
	// RequiresMTLS is true when the inbound port accepts Istio mTLS and nothing else.
	RequiresMTLS *bool `json:"requiresMtls,omitempty"`
	// Error says why the proxy would not forward the request (no listener, no
	// filter chain, TLS mismatch, no route...), as Istio's simulation names it.
	Error string `json:"error,omitempty"`
}

// simRoute is the chosen route and what it does besides choosing clusters.
type simRoute struct {
	Name string `json:"name"`
	// Index of the route in its virtual host: routes are tried in this order.
	Index int `json:"index"`
	// Match is the route's match, in words (path and headers).
	Match string `json:"match"`
	// TimeoutSeconds of the whole request; 0 means none (Envoy: disabled).
	TimeoutSeconds *float64    `json:"timeoutSeconds,omitempty"`
	Retries        *simRetries `json:"retries,omitempty"`
	Fault          *simFault   `json:"fault,omitempty"`
	// DirectResponse is the status the proxy answers with itself (e.g. 502 for a blocked host).
	DirectResponse uint32 `json:"directResponse,omitempty"`
	// Redirect is set when the route answers with a redirect.
	Redirect string `json:"redirect,omitempty"`
}

// simRetries is a route's retry policy.
type simRetries struct {
	Attempts               uint32   `json:"attempts"`
	PerTryTimeoutSeconds   *float64 `json:"perTryTimeoutSeconds,omitempty"`
	RetryOn                []string `json:"retryOn"`
	RetriableStatusCodes   []uint32 `json:"retriableStatusCodes,omitempty"`
	FromVirtualHostDefault bool     `json:"fromVirtualHost,omitempty"`
}

// simFault is a route's fault injection: a delay and/or an abort, each for a percentage of requests.
type simFault struct {
	Delay *simDelay `json:"delay,omitempty"`
	Abort *simAbort `json:"abort,omitempty"`
}

// simDelay delays Percent % of requests by FixedDelaySeconds.
type simDelay struct {
	FixedDelaySeconds float64 `json:"fixedDelaySeconds"`
	Percent           float64 `json:"percent"`
}

// simAbort answers Percent % of requests with HTTPStatus (or GRPCStatus).
type simAbort struct {
	HTTPStatus uint32  `json:"httpStatus,omitempty"`
	GRPCStatus uint32  `json:"grpcStatus,omitempty"`
	Percent    float64 `json:"percent"`
}

// simCluster is one cluster the request may go to.
type simCluster struct {
	Name string `json:"name"`
	// Weight of this choice among the route's weighted clusters (absent: the only choice).
	Weight *uint32 `json:"weight,omitempty"`
	// Type: EDS, STRICT_DNS, LOGICAL_DNS, ORIGINAL_DST, STATIC; "missing" when the
	// proxy received no cluster of that name (BlackHoleCluster, for one, is a real cluster).
	Type string `json:"type"`
	// UpstreamTLS: "istio-mtls" (always), "istio-mtls-auto" (towards endpoints that
	// have a sidecar, plain text to the others), "tls" (other TLS), or "none".
	UpstreamTLS string `json:"upstreamTls"`
}

// simConfig is what a proxy received: the resources the simulation reads.
type simConfig struct {
	Listeners []*listener.Listener
	Routes    []*route.RouteConfiguration
	Clusters  []*cluster.Cluster
}

// Where answers where the request goes.
func (c *simConfig) Where(req simRequest) (simAnswer, error) {
	req, err := simDefaults(req)
	if err != nil {
		return simAnswer{}, err
	}
	ans := simAnswer{Request: req}
	res, err := c.simulate(req, req.TLS)
	if err != nil {
		return simAnswer{}, err
	}
	if req.Direction == simInbound {
		ans.Accepts = map[string]bool{}
		for _, mode := range []string{"plaintext", "tls", "mtls"} {
			r, err := c.simulate(req, mode)
			if err != nil {
				return simAnswer{}, err
			}
			ans.Accepts[mode] = r.Error == nil
		}
		strict := ans.Accepts["mtls"] && !ans.Accepts["plaintext"] && !ans.Accepts["tls"]
		ans.RequiresMTLS = &strict
	}
	ans.Listener = res.ListenerMatched
	ans.FilterChain = res.FilterChainMatched
	ans.RouteConfig = res.RouteConfigMatched
	ans.VirtualHost = res.VirtualHostMatched
	if res.Error != nil {
		ans.Error = res.Error.Error()
		return ans, nil
	}
	chain, err := c.chain(res, req)
	if err != nil {
		return simAnswer{}, err
	}
	if h, err := simHCM(chain); err != nil {
		return simAnswer{}, err
	} else if h != nil {
		vh, err := c.virtualHost(h, res.VirtualHostMatched)
		if err != nil {
			return simAnswer{}, err
		}
		idx, err := simMatchRoute(vh, req)
		if err != nil {
			return simAnswer{}, err
		}
		if idx < 0 {
			ans.Error = simulation.ErrNoRoute.Error()
			return ans, nil
		}
		r := vh.Routes[idx]
		ra, clusters, err := simDescribeRoute(vh, r, idx)
		if err != nil {
			return simAnswer{}, err
		}
		ans.Route = ra
		ans.Clusters = c.describeClusters(clusters)
		return ans, nil
	}
	tcp, err := simTCPProxy(chain)
	if err != nil {
		return simAnswer{}, err
	}
	if tcp != nil {
		ans.Clusters = c.describeClusters(simTCPClusters(tcp))
	}
	return ans, nil
}

// simulate runs Istio's simulation for the request in one TLS mode. Istio's code
// reports a malformed resource through a test handle (absent here) as a panic;
// that becomes an error naming the request.
func (c *simConfig) simulate(req simRequest, tlsMode string) (res simulation.Result, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the configuration cannot be evaluated for %s port %d (%s): Istio's simulation failed on a resource it could not read (%v)",
				req.Direction, req.Port, tlsMode, p)
		}
	}()
	sim := &simulation.Simulation{Listeners: c.Listeners, Clusters: c.Clusters, Routes: c.Routes}
	return sim.Run(simCall(req, tlsMode)), nil
}

func simCall(req simRequest, tlsMode string) simulation.Call {
	headers := http.Header{}
	for k, v := range req.Headers {
		headers.Set(k, v)
	}
	mode := simulation.CallModeOutbound
	switch req.Direction {
	case simInbound:
		mode = simulation.CallModeInbound
	case simGateway:
		mode = simulation.CallModeGateway
	}
	path, _, _ := strings.Cut(req.Path, "?")
	call := simulation.Call{
		Address:    req.Address,
		Port:       req.Port,
		Path:       path,
		Protocol:   simulation.Protocol(req.Protocol),
		TLS:        simulation.TLSMode(tlsMode),
		HostHeader: req.Host,
		Headers:    headers,
		CallMode:   mode,
	}
	// Istio's simulation fills in the SNI of a TLS call from the Host (FillDefaults).
	return call
}

var (
	simDirections = []string{simOutbound, simInbound, simGateway}
	simProtocols  = []string{"http", "http2", "tcp"}
	simTLSModes   = []string{"plaintext", "tls", "mtls"}
)

func simDefaults(req simRequest) (simRequest, error) {
	var problems []string
	pick := func(name string, v *string, allowed []string) {
		if *v == "" {
			*v = allowed[0]
			return
		}
		for _, a := range allowed {
			if *v == a {
				return
			}
		}
		problems = append(problems, fmt.Sprintf("%s %q is not one of %s", name, *v, strings.Join(allowed, ", ")))
	}
	pick("direction", &req.Direction, simDirections)
	pick("protocol", &req.Protocol, simProtocols)
	pick("tls", &req.TLS, simTLSModes)
	if req.Port < 1 || req.Port > 65535 {
		problems = append(problems, fmt.Sprintf("port %d is not a port (1-65535)", req.Port))
	}
	if req.Path == "" {
		req.Path = "/"
	}
	if req.Address == "" {
		// An address from TEST-NET-2, to which no listener of a cluster is bound.
		req.Address = "198.51.100.1"
	}
	if len(problems) > 0 {
		return req, fmt.Errorf("invalid request: %s", strings.Join(problems, "; "))
	}
	return req, nil
}

// chain finds the filter chain the simulation matched. Its result names the chain
// only, and Istio gives the plain-text and TLS chains of one inbound port the same
// name, so among chains of that name the one whose TLS termination fits the
// request is taken (the simulation refuses the others).
func (c *simConfig) chain(res simulation.Result, req simRequest) (*listener.FilterChain, error) {
	var l *listener.Listener
	for _, x := range c.Listeners {
		if x.GetName() == res.ListenerMatched {
			l = x
		}
	}
	if l == nil {
		return nil, fmt.Errorf("listener %q matched but not found", res.ListenerMatched)
	}
	var named []*listener.FilterChain
	for _, fc := range append(append([]*listener.FilterChain{}, l.GetFilterChains()...), l.GetDefaultFilterChain()) {
		if fc != nil && fc.GetName() == res.FilterChainMatched {
			named = append(named, fc)
		}
	}
	var fitting []*listener.FilterChain
	for _, fc := range named {
		if (fc.GetTransportSocket() != nil) == (req.TLS != "plaintext") {
			fitting = append(fitting, fc)
		}
	}
	if len(fitting) == 0 {
		fitting = named
	}
	if len(fitting) == 0 {
		return nil, fmt.Errorf("filter chain %q of listener %q matched but not found", res.FilterChainMatched, l.GetName())
	}
	for _, fc := range fitting[1:] {
		if !proto.Equal(&listener.FilterChain{Filters: fc.GetFilters()}, &listener.FilterChain{Filters: fitting[0].GetFilters()}) {
			return nil, fmt.Errorf("listener %q has %d different filter chains named %q: cannot tell which one matched",
				l.GetName(), len(fitting), res.FilterChainMatched)
		}
	}
	return fitting[0], nil
}

func simHCM(fc *listener.FilterChain) (*hcm.HttpConnectionManager, error) {
	for _, f := range fc.GetFilters() {
		if f.GetName() != wellknown.HTTPConnectionManager {
			continue
		}
		h := &hcm.HttpConnectionManager{}
		if err := f.GetTypedConfig().UnmarshalTo(h); err != nil {
			return nil, fmt.Errorf("filter chain %q: HTTP connection manager: %w", fc.GetName(), err)
		}
		return h, nil
	}
	return nil, nil
}

func simTCPProxy(fc *listener.FilterChain) (*tcpproxy.TcpProxy, error) {
	for _, f := range fc.GetFilters() {
		if f.GetName() != wellknown.TCPProxy {
			continue
		}
		t := &tcpproxy.TcpProxy{}
		if err := f.GetTypedConfig().UnmarshalTo(t); err != nil {
			return nil, fmt.Errorf("filter chain %q: TCP proxy: %w", fc.GetName(), err)
		}
		return t, nil
	}
	return nil, nil
}

func (c *simConfig) virtualHost(h *hcm.HttpConnectionManager, name string) (*route.VirtualHost, error) {
	rc := h.GetRouteConfig()
	if rc == nil {
		want := h.GetRds().GetRouteConfigName()
		for _, r := range c.Routes {
			if r.GetName() == want {
				rc = r
			}
		}
		if rc == nil {
			return nil, fmt.Errorf("route configuration %q not received", want)
		}
	}
	for _, vh := range rc.GetVirtualHosts() {
		if vh.GetName() == name {
			return vh, nil
		}
	}
	return nil, fmt.Errorf("virtual host %q not found in route configuration %q", name, rc.GetName())
}

type simWeighted struct {
	name   string
	weight *uint32
}

func simTCPClusters(t *tcpproxy.TcpProxy) []simWeighted {
	if wc := t.GetWeightedClusters(); wc != nil {
		out := make([]simWeighted, 0, len(wc.GetClusters()))
		for _, c := range wc.GetClusters() {
			w := c.GetWeight()
			out = append(out, simWeighted{c.GetName(), &w})
		}
		return out
	}
	return []simWeighted{{name: t.GetCluster()}}
}

func (c *simConfig) describeClusters(ws []simWeighted) []simCluster {
	byName := map[string]*cluster.Cluster{}
	for _, x := range c.Clusters {
		byName[x.GetName()] = x
	}
	out := make([]simCluster, 0, len(ws))
	for _, w := range ws {
		a := simCluster{Name: w.name, Weight: w.weight, Type: "missing", UpstreamTLS: "none"}
		if x := byName[w.name]; x != nil {
			a.Type = simClusterType(x)
			a.UpstreamTLS = simUpstreamTLS(x)
		}
		out = append(out, a)
	}
	return out
}

// errNoSimConfig is returned when a dump holds none of the resources the simulation reads.
var errNoSimConfig = errors.New("the config dump holds no listeners, routes or clusters")
