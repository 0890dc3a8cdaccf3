package main

// `run`: stand in for a pod's proxy until stopped, keeping its config dump and
// state file current. `dump`: the same up to the first complete configuration,
// then write the dump and exit.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"istio.io/istio/pkg/log"
	"istio.io/istio/pkg/security"
)

func init() {
	commands["run"] = command{
		summary: "stand in for a pod's proxy until stopped; keep --dump and --state current",
		run:     func(args []string) error { return standInCommand("run", args, false) },
	}
	commands["dump"] = command{
		summary: "connect as a pod's proxy, write its first complete configuration to --dump (default stdout), exit",
		run:     func(args []string) error { return standInCommand("dump", args, true) },
	}
}

type options struct {
	kubeconfig   string
	pod          string
	xdsAddress   string
	caAddress    string
	workDir      string
	dumpPath     string
	statePath    string
	nodeType     string
	proxyVersion string
	timeout      time.Duration
}

// state is what `run` reports in --state (JSON), for the supervisor and tests.
type state struct {
	Namespace    string `json:"namespace"`
	Pod          string `json:"pod"`
	PodUID       string `json:"podUID"`
	PodIP        string `json:"podIP,omitempty"`
	Type         string `json:"type,omitempty"`
	NodeID       string `json:"nodeID,omitempty"`
	Revision     string `json:"revision,omitempty"`
	Discovery    string `json:"discoveryAddress,omitempty"`
	XDSAddress   string `json:"xdsAddress"`
	ProxyVersion string `json:"proxyVersion,omitempty"`
	PID          int    `json:"pid"`
	// Phase: starting, certificate, connecting, synced, failed.
	Phase              string              `json:"phase"`
	Error              string              `json:"error,omitempty"`
	Certificate        *certificateSummary `json:"certificate,omitempty"`
	StartedAt          time.Time           `json:"startedAt"`
	CertificateSeconds float64             `json:"certificateSeconds,omitempty"`
	FirstConfigSeconds float64             `json:"firstConfigSeconds,omitempty"`
	Resources          map[string]int      `json:"resources,omitempty"`
	Updates            int                 `json:"updates"`
	UpdatedAt          time.Time           `json:"updatedAt"`
}

func parseOptions(name string, args []string, oneShot bool) (*options, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	o := &options{}
	fs.StringVar(&o.kubeconfig, "kubeconfig", os.Getenv("KUBECONFIG"), "kubeconfig of the cluster the pod runs in (default $KUBECONFIG)")
	fs.StringVar(&o.pod, "pod", "", "the pod to stand in for, as namespace/name (required)")
	fs.StringVar(&o.xdsAddress, "xds-address", "", "loopback host:port where the istiod the pod names serves xDS on 15012 (required)")
	fs.StringVar(&o.caAddress, "ca-address", "", "loopback host:port of the CA the pod names (default: --xds-address)")
	fs.StringVar(&o.workDir, "work-dir", "", "folder for the pod's materialised volumes (default: a new temporary folder, removed at exit)")
	defaultDump := ""
	if oneShot {
		defaultDump = "-"
	}
	fs.StringVar(&o.dumpPath, "dump", defaultDump, "where to write the Envoy config dump (JSON); - for stdout")
	fs.StringVar(&o.statePath, "state", "", "where to write the stand-in's state (JSON)")
	fs.StringVar(&o.nodeType, "type", "auto", "proxy type: auto (from the pod), sidecar, router, waypoint, ztunnel")
	fs.StringVar(&o.proxyVersion, "proxy-version", "image", "ISTIO_VERSION to report: image (the proxy image's tag), self (this build), or a version")
	defaultTimeout := time.Duration(0)
	if oneShot {
		defaultTimeout = 60 * time.Second
	}
	fs.DurationVar(&o.timeout, "timeout", defaultTimeout, "give up if the first complete configuration has not arrived by then (0: wait forever)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if o.kubeconfig == "" {
		return nil, errors.New("--kubeconfig is required (or KUBECONFIG)")
	}
	if parts := strings.Split(o.pod, "/"); len(parts) != 2 || parts[0] == "" || parts[1] == "" {
		return nil, fmt.Errorf("--pod %q: want namespace/name", o.pod)
	}
	if o.xdsAddress == "" {
		return nil, errors.New("--xds-address is required: the loopback address of the istiod the pod names (15012)")
	}
	if err := loopbackAddress("--xds-address", o.xdsAddress); err != nil {
		return nil, err
	}
	if o.caAddress == "" {
		o.caAddress = o.xdsAddress
	} else if err := loopbackAddress("--ca-address", o.caAddress); err != nil {
		return nil, err
	}
	// The stand-in works inside --work-dir; output paths are fixed before it moves there.
	for _, p := range []*string{&o.dumpPath, &o.statePath, &o.kubeconfig, &o.workDir} {
		if *p != "" && *p != "-" {
			abs, err := filepath.Abs(*p)
			if err != nil {
				return nil, err
			}
			*p = abs
		}
	}
	return o, nil
}

func standInCommand(name string, args []string, oneShot bool) error {
	o, err := parseOptions(name, args, oneShot)
	if err != nil {
		return err
	}
	// Istio's client code logs at info; keep the stand-in's own lines readable.
	_ = log.Configure(log.DefaultOptions())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	st := &state{StartedAt: time.Now(), PID: os.Getpid(), XDSAddress: o.xdsAddress, Phase: "starting"}
	st.Namespace, st.Pod, _ = strings.Cut(o.pod, "/")
	err = standIn(ctx, o, oneShot, st)
	if err != nil && ctx.Err() == nil {
		st.Phase, st.Error = "failed", err.Error()
		o.writeState(st)
	}
	if ctx.Err() != nil {
		return nil
	}
	return err
}

func (o *options) writeState(st *state) {
	if o.statePath == "" {
		return
	}
	st.UpdatedAt = time.Now()
	b, _ := json.MarshalIndent(st, "", "  ")
	if err := writeOutput(o.statePath, b); err != nil {
		log.Errorf("writing %s: %v", o.statePath, err)
	}
}

func waitForPod(ctx context.Context, kube kubernetes.Interface, ns, name string) (*corev1.Pod, error) {
	for {
		pod, err := kube.CoreV1().Pods(ns).Get(ctx, name, metav1.GetOptions{})
		if err != nil {
			return nil, fmt.Errorf("pod %s/%s: %v", ns, name, err)
		}
		if pod.Status.PodIP != "" {
			return pod, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("pod %s/%s has no IP: %v", ns, name, ctx.Err())
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func standIn(ctx context.Context, o *options, oneShot bool, st *state) error {
	o.writeState(st)
	setupCtx := ctx
	if o.timeout > 0 {
		var cancel context.CancelFunc
		setupCtx, cancel = context.WithTimeout(ctx, o.timeout)
		defer cancel()
	}
	restConfig, err := clientcmd.BuildConfigFromFlags("", o.kubeconfig)
	if err != nil {
		return fmt.Errorf("--kubeconfig %s: %v", o.kubeconfig, err)
	}
	kube, err := kubernetes.NewForConfig(restConfig)
	if err != nil {
		return err
	}
	pod, err := waitForPod(setupCtx, kube, st.Namespace, st.Pod)
	if err != nil {
		return err
	}
	st.PodUID, st.PodIP = string(pod.UID), pod.Status.PodIP
	container, err := proxyContainer(pod)
	if err != nil {
		return err
	}
	if o.workDir == "" {
		if o.workDir, err = os.MkdirTemp("", "istio-standin-"); err != nil {
			return err
		}
		defer os.RemoveAll(o.workDir)
	} else if err := os.MkdirAll(o.workDir, 0o700); err != nil {
		return err
	}
	// pilot-agent's file paths are relative to its working directory.
	if err := os.Chdir(o.workDir); err != nil {
		return err
	}
	renewAt, err := materializeVolumes(setupCtx, kube, pod, container, ".")
	if err != nil {
		return err
	}
	p, err := newProxy(pod, container, o.nodeType)
	if err != nil {
		return err
	}
	st.Type, st.NodeID, st.Revision, st.Discovery = string(p.Type), p.ID(), p.Revision, p.DiscoveryAddress
	if st.ProxyVersion, err = p.ProxyVersion(o.proxyVersion); err != nil {
		return err
	}
	meta, locality, err := p.NodeMetadata(st.ProxyVersion)
	if err != nil {
		return err
	}
	node := &core.Node{Id: p.ID(), Cluster: "", Metadata: meta, Locality: locality}
	st.Phase = "certificate"
	o.writeState(st)

	sm, err := newSecretManager(p, o.caAddress)
	if err != nil {
		return err
	}
	defer sm.Close()
	t0 := time.Now()
	_, cert, err := workloadCertificate(sm, p)
	if err != nil {
		return err
	}
	st.Certificate, st.CertificateSeconds = cert, time.Since(t0).Seconds()
	st.Phase = "connecting"
	o.writeState(st)
	log.Infof("certificate for %s issued by %s (root %s); connecting to %s as %s", cert.SPIFFE, cert.Issuer, cert.Root, p.DiscoveryAddress, p.ID())

	r := newReceived()
	xdsCtx, cancelXDS := context.WithCancel(ctx)
	defer cancelXDS()
	t1 := time.Now()
	client := connectXDS(xdsCtx, p, o.xdsAddress, sm, meta, locality, r)
	select {
	case <-client.Synced():
	case <-setupCtx.Done():
		return fmt.Errorf("no complete configuration from %s (via %s) within %v: %v", p.DiscoveryAddress, o.xdsAddress, o.timeout, setupCtx.Err())
	}
	st.FirstConfigSeconds = time.Since(t1).Seconds()
	// The first responses of an Envoy's wildcard watches arrive together with
	// the endpoints, routes and secrets they reference moments later: write
	// the dump once those have settled (no change for a short while).
	settle(ctx, r, 300*time.Millisecond)
	write := func() error {
		if o.dumpPath != "" {
			// From the agent's cache, as its SDS server would answer Envoy.
			current, err := sm.GenerateSecret(security.WorkloadKeyCertResourceName)
			if err != nil {
				return err
			}
			root, err := sm.GenerateSecret(security.RootCertReqResourceName)
			if err != nil {
				return err
			}
			b, err := configDump(p.Type, node, r, current, root)
			if err != nil {
				return err
			}
			if err := writeOutput(o.dumpPath, b); err != nil {
				return err
			}
		}
		st.Resources, st.Updates = r.counts(), r.updates
		o.writeState(st)
		return nil
	}
	st.Phase = "synced"
	if err := write(); err != nil {
		return err
	}
	log.Infof("first complete configuration after %.2fs: %v", st.FirstConfigSeconds, st.Resources)
	if oneShot {
		return nil
	}
	for {
		var renew <-chan time.Time
		if !renewAt.IsZero() {
			renew = time.After(time.Until(renewAt))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.changed:
			settle(ctx, r, 200*time.Millisecond)
			if err := write(); err != nil {
				log.Errorf("writing the dump: %v", err)
			}
		case <-renew:
			// The kubelet refreshes projected tokens; so does the stand-in.
			fresh, err := kube.CoreV1().Pods(pod.Namespace).Get(ctx, pod.Name, metav1.GetOptions{})
			if err == nil {
				renewAt, err = materializeVolumes(ctx, kube, fresh, container, ".")
			}
			if err != nil {
				log.Errorf("refreshing the pod's volumes: %v", err)
				renewAt = time.Now().Add(30 * time.Second)
			}
		}
	}
}

// settle waits until no resource has arrived for quiet (or ctx ends).
func settle(ctx context.Context, r *received, quiet time.Duration) {
	for {
		select {
		case <-r.changed:
		case <-time.After(quiet):
			return
		case <-ctx.Done():
			return
		}
	}
}
