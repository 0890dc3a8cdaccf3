package main

// What istiod served, written as Envoy's admin /config_dump would show it
// (envoy.admin.v3 types), so that the same tools read it as a real proxy's
// dump: `istioctl proxy-config cluster|listener|route|secret --file <dump>`.
// Secrets never carry a private key: Envoy's own dump shows "[redacted]", and
// so does this one. ztunnel's dump is ztunnel's own (ztunnel_dump.go).

import (
	"fmt"
	"os"
	"path/filepath"

	adminv3 "github.com/envoyproxy/go-control-plane/envoy/admin/v3"
	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/timestamppb"

	v3 "istio.io/istio/pilot/pkg/xds/v3"
	_ "istio.io/istio/pkg/config/xds" // registers the Envoy filter types that listeners carry, for JSON
	"istio.io/istio/pkg/model"
	"istio.io/istio/pkg/security"
)

const redacted = "[redacted]"

// dumpJSON writes field names as the proto declares them (snake_case), as
// Envoy's admin API does; the Any types are resolved from the global registry.
var dumpJSON = protojson.MarshalOptions{Multiline: true, Indent: "  ", UseProtoNames: true}

// envoyConfigDump renders an Envoy proxy's dump: its bootstrap node, then
// clusters, listeners, routes, endpoints and secrets, in Envoy's order.
func envoyConfigDump(node *core.Node, r *received, workload, root *security.SecretItem) ([]byte, error) {
	var configs []*anypb.Any
	add := func(m proto.Message) error {
		a, err := anypb.New(m)
		if err != nil {
			return err
		}
		configs = append(configs, a)
		return nil
	}
	toAny := func(m proto.Message) *anypb.Any {
		a, _ := anypb.New(m) // only fails for a nil message, which is never stored
		return a
	}
	if err := add(&adminv3.BootstrapConfigDump{Bootstrap: &bootstrapv3.Bootstrap{Node: node}}); err != nil {
		return nil, err
	}
	clusters := &adminv3.ClustersConfigDump{}
	for _, c := range r.snapshot(v3.ClusterType) {
		clusters.DynamicActiveClusters = append(clusters.DynamicActiveClusters, &adminv3.ClustersConfigDump_DynamicCluster{
			VersionInfo: c.Version, Cluster: toAny(c.Message), LastUpdated: timestamppb.New(c.At),
		})
	}
	listeners := &adminv3.ListenersConfigDump{}
	for _, l := range r.snapshot(v3.ListenerType) {
		listeners.DynamicListeners = append(listeners.DynamicListeners, &adminv3.ListenersConfigDump_DynamicListener{
			Name: l.Name,
			ActiveState: &adminv3.ListenersConfigDump_DynamicListenerState{
				VersionInfo: l.Version, Listener: toAny(l.Message), LastUpdated: timestamppb.New(l.At),
			},
		})
	}
	routes := &adminv3.RoutesConfigDump{}
	for _, rc := range r.snapshot(v3.RouteType) {
		routes.DynamicRouteConfigs = append(routes.DynamicRouteConfigs, &adminv3.RoutesConfigDump_DynamicRouteConfig{
			VersionInfo: rc.Version, RouteConfig: toAny(rc.Message), LastUpdated: timestamppb.New(rc.At),
		})
	}
	endpoints := &adminv3.EndpointsConfigDump{}
	for _, e := range r.snapshot(v3.EndpointType) {
		endpoints.DynamicEndpointConfigs = append(endpoints.DynamicEndpointConfigs, &adminv3.EndpointsConfigDump_DynamicEndpointConfig{
			VersionInfo: e.Version, EndpointConfig: toAny(e.Message), LastUpdated: timestamppb.New(e.At),
		})
	}
	secrets := &adminv3.SecretsConfigDump{}
	if workload != nil && root != nil {
		// What the agent's SDS server gives Envoy: the workload certificate and the root.
		at := timestamppb.New(workload.CreatedTime)
		secrets.DynamicActiveSecrets = append(secrets.DynamicActiveSecrets,
			&adminv3.SecretsConfigDump_DynamicSecret{Name: security.WorkloadKeyCertResourceName, LastUpdated: at, Secret: toAny(&tlsv3.Secret{
				Name: security.WorkloadKeyCertResourceName,
				Type: &tlsv3.Secret_TlsCertificate{TlsCertificate: &tlsv3.TlsCertificate{
					CertificateChain: &core.DataSource{Specifier: &core.DataSource_InlineBytes{InlineBytes: workload.CertificateChain}},
					PrivateKey:       &core.DataSource{Specifier: &core.DataSource_InlineString{InlineString: redacted}},
				}},
			})},
			&adminv3.SecretsConfigDump_DynamicSecret{Name: security.RootCertReqResourceName, LastUpdated: at, Secret: toAny(&tlsv3.Secret{
				Name: security.RootCertReqResourceName,
				Type: &tlsv3.Secret_ValidationContext{ValidationContext: &tlsv3.CertificateValidationContext{
					TrustedCa: &core.DataSource{Specifier: &core.DataSource_InlineBytes{InlineBytes: root.RootCert}},
				}},
			})},
		)
	}
	for _, s := range r.snapshot(v3.SecretType) {
		sec := proto.Clone(s.Message).(*tlsv3.Secret)
		if tc := sec.GetTlsCertificate(); tc != nil && tc.PrivateKey != nil {
			tc.PrivateKey = &core.DataSource{Specifier: &core.DataSource_InlineString{InlineString: redacted}}
		}
		secrets.DynamicActiveSecrets = append(secrets.DynamicActiveSecrets, &adminv3.SecretsConfigDump_DynamicSecret{
			Name: s.Name, VersionInfo: s.Version, Secret: toAny(sec), LastUpdated: timestamppb.New(s.At),
		})
	}
	for _, m := range []proto.Message{clusters, listeners, routes, endpoints, secrets} {
		if err := add(m); err != nil {
			return nil, err
		}
	}
	b, err := dumpJSON.Marshal(&adminv3.ConfigDump{Configs: configs})
	if err != nil {
		return nil, fmt.Errorf("config dump to JSON: %v", err)
	}
	return b, nil
}

func configDump(t model.NodeType, node *core.Node, r *received, workload, root *security.SecretItem) ([]byte, error) {
	if t == model.Ztunnel {
		return ztunnelConfigDump(r)
	}
	return envoyConfigDump(node, r, workload, root)
}

func writeOutput(path string, content []byte) error {
	if path == "-" {
		_, err := os.Stdout.Write(append(content, '\n'))
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return writeFileAtomic(path, content, 0o644)
}
