package main

// The proxy a pod would run, assembled the way pilot-agent assembles it: its
// type (sidecar, router, ztunnel), its proxy config (mesh defaults, PROXY_CONFIG
// env, proxy.istio.io/config annotation: pilot-agent's ConstructProxyConfig),
// the istiod it names, its node ID and its node metadata (pilot-agent's
// bootstrap.GetNodeMetaData, marshalled as its Envoy bootstrap does).

import (
	"fmt"
	"net"
	"regexp"
	"strings"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	"google.golang.org/protobuf/types/known/structpb"
	corev1 "k8s.io/api/core/v1"

	meshconfig "istio.io/api/mesh/v1alpha1"
	agentconfig "istio.io/istio/pilot/cmd/pilot-agent/config"
	"istio.io/istio/pkg/bootstrap"
	"istio.io/istio/pkg/bootstrap/option"
	"istio.io/istio/pkg/model"
	"istio.io/istio/pkg/util/protomarshal"
	"istio.io/istio/pkg/version"
)

// proxy is one pod's proxy as pilot-agent would run it.
type proxy struct {
	Pod       *corev1.Pod
	Container *corev1.Container
	Type      model.NodeType
	// Env of the proxy container, resolved ("NAME=value"), and as a map.
	Env    []string
	EnvMap map[string]string
	// DiscoveryAddress is the istiod the pod names (host:port), e.g. istiod-canary.istio-system.svc:15012.
	DiscoveryAddress string
	// CAAddress is where the pod's agent asks for its certificate (CA_ADDR, else the discovery address).
	CAAddress   string
	ProxyConfig *meshconfig.ProxyConfig
	IP          string
	ClusterID   string
	TrustDomain string
	Revision    string
}

// Host of the istiod the pod names: the TLS server name its agent verifies.
func (p *proxy) DiscoveryHost() string {
	h, _, err := net.SplitHostPort(p.DiscoveryAddress)
	if err != nil {
		return p.DiscoveryAddress
	}
	return h
}

// ID is the node ID pilot-agent sends: type~ip~pod.namespace~namespace.svc.cluster.local.
func (p *proxy) ID() string {
	return fmt.Sprintf("%s~%s~%s.%s~%s.svc.cluster.local", p.Type, p.IP, p.Pod.Name, p.Pod.Namespace, p.Pod.Namespace)
}

// SPIFFE identity the pod's certificate must carry.
func (p *proxy) SPIFFE() string {
	sa := p.Pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	return fmt.Sprintf("spiffe://%s/ns/%s/sa/%s", p.TrustDomain, p.Pod.Namespace, sa)
}

// nodeTypeOf reads the proxy's role from its container: `proxy sidecar` or
// `proxy router` (gateways) or `proxy waypoint` for pilot-agent, the ztunnel image for ztunnel.
func nodeTypeOf(pod *corev1.Pod, c *corev1.Container) (model.NodeType, error) {
	args := c.Args
	for i := 0; i+1 < len(args); i++ {
		if args[i] == "proxy" {
			switch args[i+1] {
			case "sidecar":
				return model.SidecarProxy, nil
			case "router":
				return model.Router, nil
			case "waypoint":
				return model.Waypoint, nil
			}
		}
	}
	if strings.Contains(c.Image, "/ztunnel:") || pod.Labels["app"] == "ztunnel" {
		return model.Ztunnel, nil
	}
	return "", fmt.Errorf("pod %s/%s: cannot tell the proxy type from container %s (args %q, image %s)",
		pod.Namespace, pod.Name, c.Name, args, c.Image)
}

// newProxy assembles the pod's proxy. Call it in the working directory the pod's
// volumes were materialised in: pilot-agent's readers use relative paths.
func newProxy(pod *corev1.Pod, c *corev1.Container, forcedType string) (*proxy, error) {
	env, envMap, err := containerEnv(pod, c)
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s: %v", pod.Namespace, pod.Name, err)
	}
	p := &proxy{Pod: pod, Container: c, Env: env, EnvMap: envMap, IP: pod.Status.PodIP}
	if p.IP == "" {
		return nil, fmt.Errorf("pod %s/%s has no IP yet", pod.Namespace, pod.Name)
	}
	if forcedType != "" && forcedType != "auto" {
		p.Type = model.NodeType(forcedType)
		if !model.IsApplicationNodeType(p.Type) && p.Type != model.Ztunnel {
			return nil, fmt.Errorf("--type %s: allowed are auto, sidecar, router, waypoint, ztunnel", forcedType)
		}
	} else if p.Type, err = nodeTypeOf(pod, c); err != nil {
		return nil, err
	}
	p.ClusterID = firstNonEmpty(envMap["ISTIO_META_CLUSTER_ID"], envMap["CLUSTER_ID"], "Kubernetes")
	p.TrustDomain = firstNonEmpty(envMap["TRUST_DOMAIN"], "cluster.local")
	p.Revision = firstNonEmpty(pod.Labels["istio.io/rev"], "default")
	if p.Type == model.Ztunnel {
		// ztunnel is configured by env only (XDS_ADDRESS, CA_ADDRESS).
		p.DiscoveryAddress = firstNonEmpty(envMap["XDS_ADDRESS"], "istiod.istio-system.svc:15012")
		p.CAAddress = firstNonEmpty(envMap["CA_ADDRESS"], p.DiscoveryAddress)
		p.ProxyConfig = nil
		return p, nil
	}
	// The sidecar's own service cluster: --serviceCluster, which the injector leaves at its default.
	pc, err := agentconfig.ConstructProxyConfig("./etc/istio/config/mesh", "istio-proxy", envMap["PROXY_CONFIG"], 0)
	if err != nil {
		return nil, fmt.Errorf("pod %s/%s: proxy config: %v", pod.Namespace, pod.Name, err)
	}
	p.ProxyConfig = pc
	p.DiscoveryAddress = pc.DiscoveryAddress
	p.CAAddress = firstNonEmpty(envMap["CA_ADDR"], pc.DiscoveryAddress)
	return p, nil
}

var versionTag = regexp.MustCompile(`:(\d+\.\d+\.\d+[^@]*)(@.*)?$`)

// ProxyVersion is the Istio version the pod's proxy reports: its image's tag
// (proxyv2:1.29.6 → 1.29.6), or with `self`, the stand-in's own build version.
func (p *proxy) ProxyVersion(mode string) (string, error) {
	switch mode {
	case "self":
		return version.Info.Version, nil
	case "image":
		if m := versionTag.FindStringSubmatch(p.Container.Image); m != nil {
			return strings.TrimSuffix(m[1], "-distroless"), nil
		}
		return "", fmt.Errorf("--proxy-version image: the image %q of %s/%s has no version tag; pass --proxy-version self or a version",
			p.Container.Image, p.Pod.Namespace, p.Pod.Name)
	default:
		return mode, nil
	}
}

// NodeMetadata is the metadata pilot-agent puts in the node of its Envoy
// bootstrap, and so the one Envoy sends istiod: bootstrap.GetNodeMetaData on
// the container's env, then the bootstrap's own marshalling (typed fields,
// plus every ISTIO_META_* key it does not know).
func (p *proxy) NodeMetadata(proxyVersion string) (*structpb.Struct, *core.Locality, error) {
	envs := append([]string{}, p.Env...)
	if proxyVersion != "" {
		envs = append(envs, "ISTIO_META_ISTIO_VERSION="+proxyVersion)
	}
	if p.Type == model.Ztunnel {
		// ztunnel is not pilot-agent: it sends its cluster, namespace and account directly.
		envs = append(envs, "ISTIO_META_CLUSTER_ID="+p.ClusterID, "POD_NAMESPACE="+p.Pod.Namespace,
			"SERVICE_ACCOUNT="+p.Pod.Spec.ServiceAccountName, "POD_NAME="+p.Pod.Name, "ISTIO_META_NODE_NAME="+p.Pod.Spec.NodeName)
	}
	ips := make([]string, 0, len(p.Pod.Status.PodIPs))
	for _, ip := range p.Pod.Status.PodIPs {
		ips = append(ips, ip.IP)
	}
	if len(ips) == 0 {
		ips = []string{p.IP}
	}
	pc := p.ProxyConfig
	if pc == nil {
		pc = &meshconfig.ProxyConfig{DiscoveryAddress: p.DiscoveryAddress}
	}
	var pilotSAN []string
	if pc.ControlPlaneAuthPolicy == meshconfig.AuthenticationPolicy_MUTUAL_TLS {
		// As the agent does (pkg/istio-agent generateNodeMetadata).
		pilotSAN = []string{agentconfig.GetPilotSan(pc.DiscoveryAddress)}
	}
	node, err := bootstrap.GetNodeMetaData(bootstrap.MetadataOptions{
		ID:                  p.ID(),
		Envs:                envs,
		InstanceIPs:         ips,
		ProxyConfig:         pc,
		PilotSubjectAltName: pilotSAN,
		// pilot-agent's defaults for its status and Prometheus ports.
		EnvoyStatusPort:     15021,
		EnvoyPrometheusPort: 15090,
		XDSRootCert:         "./var/run/secrets/istio/root-cert.pem",
	})
	if err != nil {
		return nil, nil, err
	}
	params, err := option.NewTemplateParams(option.NodeMetadata(node.Metadata, node.RawMetadata))
	if err != nil {
		return nil, nil, err
	}
	metaJSON, ok := params["meta_json_str"].(string)
	if !ok {
		return nil, nil, fmt.Errorf("node metadata: unexpected bootstrap parameter %T", params["meta_json_str"])
	}
	meta := &structpb.Struct{}
	if err := protomarshal.Unmarshal([]byte(metaJSON), meta); err != nil {
		return nil, nil, fmt.Errorf("node metadata: %v", err)
	}
	return meta, node.Locality, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}
