package main

// What the kubelet would give the pod's istio-proxy container, read from the
// pod object: its environment (fieldRef and resourceFieldRef resolved) and the
// files of its ConfigMap, downward-API and projected service-account-token
// volumes, written under the stand-in's working directory at the container's
// mount paths. pilot-agent reads those paths relative to its working directory
// (./etc/istio/pod/labels, ./var/run/secrets/istio/root-cert.pem,
// ./var/run/secrets/tokens/istio-token), so Istio's own readers find them.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

const proxyContainerName = "istio-proxy"

// proxyContainer is the pod's istio-proxy container: the injected sidecar, a
// gateway's proxy (`image: auto`) or ztunnel's.
func proxyContainer(pod *corev1.Pod) (*corev1.Container, error) {
	for i := range pod.Spec.Containers {
		if pod.Spec.Containers[i].Name == proxyContainerName {
			return &pod.Spec.Containers[i], nil
		}
	}
	for i := range pod.Spec.InitContainers {
		c := &pod.Spec.InitContainers[i]
		// Native sidecars: an init container that keeps running.
		if c.Name == proxyContainerName && c.RestartPolicy != nil && *c.RestartPolicy == corev1.ContainerRestartPolicyAlways {
			return c, nil
		}
	}
	return nil, fmt.Errorf("pod %s/%s has no %s container (not injected?)", pod.Namespace, pod.Name, proxyContainerName)
}

var envRef = regexp.MustCompile(`\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// containerEnv resolves the container's env as the kubelet does: plain values
// (with $(VAR) references to earlier variables expanded), fieldRef and
// resourceFieldRef. ConfigMap and Secret references are not used by Istio's
// proxy containers; one is an error rather than a silently missing variable.
func containerEnv(pod *corev1.Pod, c *corev1.Container) ([]string, map[string]string, error) {
	values := map[string]string{}
	var list []string
	for _, e := range c.Env {
		var v string
		switch {
		case e.ValueFrom == nil:
			v = envRef.ReplaceAllStringFunc(e.Value, func(ref string) string {
				if val, ok := values[ref[2:len(ref)-1]]; ok {
					return val
				}
				return ref
			})
		case e.ValueFrom.FieldRef != nil:
			var err error
			if v, err = podField(pod, e.ValueFrom.FieldRef.FieldPath); err != nil {
				return nil, nil, fmt.Errorf("env %s: %v", e.Name, err)
			}
		case e.ValueFrom.ResourceFieldRef != nil:
			var err error
			if v, err = resourceField(c, e.ValueFrom.ResourceFieldRef); err != nil {
				return nil, nil, fmt.Errorf("env %s: %v", e.Name, err)
			}
		default:
			return nil, nil, fmt.Errorf("env %s: only value, fieldRef and resourceFieldRef are supported", e.Name)
		}
		values[e.Name] = v
		list = append(list, e.Name+"="+v)
	}
	return list, values, nil
}

var labelRef = regexp.MustCompile(`^metadata\.(labels|annotations)\['(.+)'\]$`)

func podField(pod *corev1.Pod, path string) (string, error) {
	switch path {
	case "metadata.name":
		return pod.Name, nil
	case "metadata.namespace":
		return pod.Namespace, nil
	case "metadata.uid":
		return string(pod.UID), nil
	case "spec.serviceAccountName":
		return pod.Spec.ServiceAccountName, nil
	case "spec.nodeName":
		return pod.Spec.NodeName, nil
	case "status.podIP":
		return pod.Status.PodIP, nil
	case "status.podIPs":
		ips := make([]string, 0, len(pod.Status.PodIPs))
		for _, ip := range pod.Status.PodIPs {
			ips = append(ips, ip.IP)
		}
		return strings.Join(ips, ","), nil
	case "status.hostIP":
		return pod.Status.HostIP, nil
	}
	if m := labelRef.FindStringSubmatch(path); m != nil {
		if m[1] == "labels" {
			return pod.Labels[m[2]], nil
		}
		return pod.Annotations[m[2]], nil
	}
	return "", fmt.Errorf("fieldRef %q is not supported", path)
}

func resourceField(c *corev1.Container, ref *corev1.ResourceFieldSelector) (string, error) {
	var q resource.Quantity
	var ok bool
	switch ref.Resource {
	case "limits.cpu":
		q, ok = c.Resources.Limits[corev1.ResourceCPU]
	case "requests.cpu":
		q, ok = c.Resources.Requests[corev1.ResourceCPU]
	case "limits.memory":
		q, ok = c.Resources.Limits[corev1.ResourceMemory]
	case "requests.memory":
		q, ok = c.Resources.Requests[corev1.ResourceMemory]
	default:
		return "", fmt.Errorf("resourceFieldRef %q is not supported", ref.Resource)
	}
	if !ok {
		// The kubelet reports the node's allocatable for an unset limit; a pod
		// here has no real node, so 0 (what pilot-agent treats as "no limit").
		return "0", nil
	}
	divisor := ref.Divisor
	if divisor.IsZero() {
		divisor = resource.MustParse("1")
	}
	// Rounded up, as the kubelet does.
	n := (q.MilliValue() + divisor.MilliValue() - 1) / divisor.MilliValue()
	return strconv.FormatInt(n, 10), nil
}

// materializeVolumes writes the files of the container's ConfigMap,
// downward-API and projected volumes under dir, at their mount paths. Service
// account tokens are requested through the TokenRequest API with the volume's
// audience and lifetime, bound to the pod, as the kubelet does; the returned
// time is when the earliest token should be renewed (zero if none).
func materializeVolumes(ctx context.Context, kube kubernetes.Interface, pod *corev1.Pod, c *corev1.Container, dir string) (time.Time, error) {
	volumes := map[string]*corev1.Volume{}
	for i := range pod.Spec.Volumes {
		volumes[pod.Spec.Volumes[i].Name] = &pod.Spec.Volumes[i]
	}
	var renew time.Time
	for _, m := range c.VolumeMounts {
		v := volumes[m.Name]
		if v == nil {
			continue
		}
		target := filepath.Join(dir, m.MountPath)
		files := map[string][]byte{}
		switch {
		case v.ConfigMap != nil:
			if err := configMapFiles(ctx, kube, pod.Namespace, v.ConfigMap.Name, v.ConfigMap.Items, optional(v.ConfigMap.Optional), files); err != nil {
				return renew, err
			}
		case v.DownwardAPI != nil:
			if err := downwardFiles(pod, v.DownwardAPI.Items, files); err != nil {
				return renew, err
			}
		case v.Projected != nil:
			for _, src := range v.Projected.Sources {
				switch {
				case src.ServiceAccountToken != nil:
					token, until, err := requestToken(ctx, kube, pod, src.ServiceAccountToken)
					if err != nil {
						return renew, err
					}
					files[src.ServiceAccountToken.Path] = []byte(token)
					if renew.IsZero() || until.Before(renew) {
						renew = until
					}
				case src.ConfigMap != nil:
					if err := configMapFiles(ctx, kube, pod.Namespace, src.ConfigMap.Name, src.ConfigMap.Items, optional(src.ConfigMap.Optional), files); err != nil {
						return renew, err
					}
				case src.DownwardAPI != nil:
					if err := downwardFiles(pod, src.DownwardAPI.Items, files); err != nil {
						return renew, err
					}
				}
			}
		default:
			// emptyDir, secrets of other components, credential sockets: nothing a proxy stand-in reads.
			continue
		}
		if m.SubPath != "" {
			content, ok := files[m.SubPath]
			if !ok {
				continue
			}
			files = map[string][]byte{"": content}
		}
		for name, content := range files {
			p := filepath.Join(target, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return renew, err
			}
			if err := writeFileAtomic(p, content, 0o600); err != nil {
				return renew, err
			}
		}
	}
	return renew, nil
}

func optional(b *bool) bool { return b != nil && *b }

func configMapFiles(ctx context.Context, kube kubernetes.Interface, ns, name string, items []corev1.KeyToPath, isOptional bool, files map[string][]byte) error {
	cm, err := kube.CoreV1().ConfigMaps(ns).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		if isOptional {
			return nil
		}
		return fmt.Errorf("ConfigMap %s/%s (mounted by the proxy): %v", ns, name, err)
	}
	if len(items) == 0 {
		for k, v := range cm.Data {
			files[k] = []byte(v)
		}
		return nil
	}
	for _, it := range items {
		if v, ok := cm.Data[it.Key]; ok {
			files[it.Path] = []byte(v)
		}
	}
	return nil
}

// downwardFiles renders labels and annotations in the downward API's format
// (`key="value"` lines, sorted), which istio's bootstrap.ParseDownwardAPI reads.
func downwardFiles(pod *corev1.Pod, items []corev1.DownwardAPIVolumeFile, files map[string][]byte) error {
	for _, it := range items {
		if it.FieldRef == nil {
			continue
		}
		switch it.FieldRef.FieldPath {
		case "metadata.labels":
			files[it.Path] = []byte(downwardMap(pod.Labels))
		case "metadata.annotations":
			files[it.Path] = []byte(downwardMap(pod.Annotations))
		default:
			v, err := podField(pod, it.FieldRef.FieldPath)
			if err != nil {
				return fmt.Errorf("downward API file %s: %v", it.Path, err)
			}
			files[it.Path] = []byte(v)
		}
	}
	return nil
}

func downwardMap(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + strconv.Quote(m[k]) + "\n")
	}
	return b.String()
}

func requestToken(ctx context.Context, kube kubernetes.Interface, pod *corev1.Pod, p *corev1.ServiceAccountTokenProjection) (string, time.Time, error) {
	expiry := int64(3600)
	if p.ExpirationSeconds != nil {
		expiry = *p.ExpirationSeconds
	}
	var audiences []string
	if p.Audience != "" {
		audiences = []string{p.Audience}
	}
	sa := pod.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	tr, err := kube.CoreV1().ServiceAccounts(pod.Namespace).CreateToken(ctx, sa, &authenticationv1.TokenRequest{
		Spec: authenticationv1.TokenRequestSpec{
			Audiences:         audiences,
			ExpirationSeconds: &expiry,
			BoundObjectRef:    &authenticationv1.BoundObjectReference{Kind: "Pod", APIVersion: "v1", Name: pod.Name, UID: pod.UID},
		},
	}, metav1.CreateOptions{})
	if err != nil {
		return "", time.Time{}, fmt.Errorf("TokenRequest for service account %s/%s (audience %v): %v", pod.Namespace, sa, audiences, err)
	}
	issued := time.Now()
	lifetime := tr.Status.ExpirationTimestamp.Sub(issued)
	// The kubelet renews at 80% of the lifetime.
	return tr.Status.Token, issued.Add(lifetime * 8 / 10), nil
}

func writeFileAtomic(p string, content []byte, mode os.FileMode) error {
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, content, mode); err != nil {
		return err
	}
	return os.Rename(tmp, p)
}
