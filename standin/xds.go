package main

// The pod's xDS connection, held by Istio's delta ADS client (pkg/adsc): the
// same incremental protocol Envoy and ztunnel speak to istiod. Envoy proxies
// watch every cluster and listener and follow their references to endpoints,
// routes and secrets; ztunnel watches addresses and authorizations. Each
// response is acknowledged by the client, so istiod's sync status (what
// `istioctl proxy-status` shows) reads SYNCED once all are applied.

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
	"time"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	endpoint "github.com/envoyproxy/go-control-plane/envoy/config/endpoint/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	v3 "istio.io/istio/pilot/pkg/xds/v3"
	"istio.io/istio/pilot/test/xdstest"
	"istio.io/istio/pkg/adsc"
	"istio.io/istio/pkg/backoff"
	"istio.io/istio/pkg/model"
	"istio.io/istio/pkg/security"
	"istio.io/istio/pkg/workloadapi"
	wsecurity "istio.io/istio/pkg/workloadapi/security"
)

// received holds the latest version of every resource istiod sent, by type URL and name.
type received struct {
	mu        sync.Mutex
	resources map[string]map[string]versioned
	changed   chan struct{}
	updates   int
}

type versioned struct {
	Version string
	Message proto.Message
	At      time.Time
}

func newReceived() *received {
	return &received{resources: map[string]map[string]versioned{}, changed: make(chan struct{}, 1)}
}

func (r *received) put(typeURL, name, version string, m proto.Message, event adsc.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	byName := r.resources[typeURL]
	if byName == nil {
		byName = map[string]versioned{}
		r.resources[typeURL] = byName
	}
	if event == adsc.EventDelete {
		delete(byName, name)
	} else {
		byName[name] = versioned{Version: version, Message: m, At: time.Now()}
	}
	r.updates++
	select {
	case r.changed <- struct{}{}:
	default:
	}
}

// snapshot copies the resources of one type, sorted by name.
func (r *received) snapshot(typeURL string) []named {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]named, 0, len(r.resources[typeURL]))
	for n, v := range r.resources[typeURL] {
		out = append(out, named{Name: n, versioned: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (r *received) counts() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]int{}
	for t, byName := range r.resources {
		out[v3.GetShortType(t)] = len(byName)
	}
	return out
}

type named struct {
	Name string
	versioned
}

// sdsNames are the secrets a transport socket asks for over ADS, i.e. from istiod
// (credentialName secrets). The workload certificate and root ("default",
// "ROOTCA") come from the agent's own SDS server, which the stand-in plays
// with its secret cache.
func sdsNames(sockets []*core.TransportSocket) []string {
	var names []string
	add := func(c *tlsv3.SdsSecretConfig) {
		if c != nil && c.GetSdsConfig().GetAds() != nil && c.GetName() != "" {
			names = append(names, c.GetName())
		}
	}
	for _, s := range sockets {
		var common *tlsv3.CommonTlsContext
		switch s.GetTypedConfig().GetTypeUrl() {
		case xdstest.TypeName[*tlsv3.UpstreamTlsContext]():
			common = xdstest.SilentlyUnmarshalAny[tlsv3.UpstreamTlsContext](s.GetTypedConfig()).GetCommonTlsContext()
		case xdstest.TypeName[*tlsv3.DownstreamTlsContext]():
			common = xdstest.SilentlyUnmarshalAny[tlsv3.DownstreamTlsContext](s.GetTypedConfig()).GetCommonTlsContext()
		default:
			continue
		}
		for _, c := range common.GetTlsCertificateSdsSecretConfigs() {
			add(c)
		}
		add(common.GetValidationContextSdsSecretConfig())
		add(common.GetCombinedValidationContext().GetValidationContextSdsSecretConfig())
	}
	return names
}

func clusterSockets(c *cluster.Cluster) []*core.TransportSocket {
	var out []*core.TransportSocket
	if c.GetTransportSocket() != nil {
		out = append(out, c.GetTransportSocket())
	}
	for _, m := range c.GetTransportSocketMatches() {
		out = append(out, m.GetTransportSocket())
	}
	return out
}

func listenerSockets(l *listener.Listener) []*core.TransportSocket {
	var out []*core.TransportSocket
	for _, fc := range l.GetFilterChains() {
		if fc.GetTransportSocket() != nil {
			out = append(out, fc.GetTransportSocket())
		}
	}
	if ts := l.GetDefaultFilterChain().GetTransportSocket(); ts != nil {
		out = append(out, ts)
	}
	return out
}

// watches are the delta ADS subscriptions of a proxy type, each storing what arrives into r.
func watches(t model.NodeType, r *received) []adsc.Option {
	store := func(typeURL string) func(string, string, proto.Message, adsc.Event) {
		return func(name, version string, m proto.Message, e adsc.Event) { r.put(typeURL, name, version, m, e) }
	}
	if t == model.Ztunnel {
		addr, authz := store(v3.AddressType), store(v3.WorkloadAuthorizationType)
		return []adsc.Option{
			adsc.Register(func(_ adsc.HandlerContext, name, version string, m *workloadapi.Address, e adsc.Event) {
				addr(name, version, m, e)
			}),
			adsc.Watch[*workloadapi.Address]("*"),
			adsc.Register(func(_ adsc.HandlerContext, name, version string, m *wsecurity.Authorization, e adsc.Event) {
				authz(name, version, m, e)
			}),
			adsc.Watch[*wsecurity.Authorization]("*"),
		}
	}
	cds, lds, eds, rds, sds := store(v3.ClusterType), store(v3.ListenerType), store(v3.EndpointType), store(v3.RouteType), store(v3.SecretType)
	return []adsc.Option{
		adsc.Register(func(ctx adsc.HandlerContext, name, version string, c *cluster.Cluster, e adsc.Event) {
			cds(name, version, c, e)
			if e == adsc.EventDelete {
				return
			}
			ctx.RegisterDependency(v3.EndpointType, xdstest.ExtractEdsClusterNames([]*cluster.Cluster{c})...)
			ctx.RegisterDependency(v3.SecretType, sdsNames(clusterSockets(c))...)
		}),
		adsc.Watch[*cluster.Cluster]("*"),
		adsc.Register(func(ctx adsc.HandlerContext, name, version string, l *listener.Listener, e adsc.Event) {
			lds(name, version, l, e)
			if e == adsc.EventDelete {
				return
			}
			ctx.RegisterDependency(v3.RouteType, xdstest.ExtractRoutesFromListeners([]*listener.Listener{l})...)
			ctx.RegisterDependency(v3.SecretType, sdsNames(listenerSockets(l))...)
		}),
		adsc.Watch[*listener.Listener]("*"),
		adsc.Register(func(_ adsc.HandlerContext, name, version string, m *endpoint.ClusterLoadAssignment, e adsc.Event) {
			eds(name, version, m, e)
		}),
		adsc.Register(func(_ adsc.HandlerContext, name, version string, m *route.RouteConfiguration, e adsc.Event) {
			rds(name, version, m, e)
		}),
		adsc.Register(func(_ adsc.HandlerContext, name, version string, m *tlsv3.Secret, e adsc.Event) {
			sds(name, version, m, e)
		}),
	}
}

// connectXDS starts the pod's xDS client against xdsAddress (loopback), verifying
// istiod as the host the pod names and presenting the pod's certificate. It
// runs until ctx ends, reconnecting with backoff as the agent does.
func connectXDS(ctx context.Context, p *proxy, xdsAddress string, sm security.SecretManager, meta *structpb.Struct, locality *core.Locality, r *received) *adsc.Client {
	cfg := &adsc.DeltaADSConfig{Config: adsc.Config{
		ClientName:    p.Pod.Namespace + "/" + p.Pod.Name,
		XDSSAN:        p.DiscoveryHost(),
		Namespace:     p.Pod.Namespace,
		Workload:      p.Pod.Name,
		Revision:      p.Revision,
		Meta:          meta,
		Locality:      locality,
		NodeType:      p.Type,
		IP:            p.IP,
		SecretManager: sm,
		XDSRootCAFile: rootCertPath,
	}}
	client := adsc.NewDeltaWithBackoffPolicy(xdsAddress, cfg, backoff.NewExponentialBackOff(backoff.DefaultOption()), watches(p.Type, r)...)
	go client.Run(ctx)
	return client
}

// loopbackAddress refuses any address that is not a loopback IP (or localhost)
// with a port: the stand-in dials only istiod's local listeners, never a pod or
// Service address of the cluster.
func loopbackAddress(flagName, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port == "" {
		return fmt.Errorf("%s %q: want host:port", flagName, addr)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%s %q: only loopback addresses (127.0.0.0/8, ::1) are allowed; for a remote istiod, port-forward it to 127.0.0.1", flagName, addr)
	}
	return nil
}

func hostOf(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return h
}
