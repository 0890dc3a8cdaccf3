package main

import (
	"fmt"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	listener "github.com/envoyproxy/go-control-plane/envoy/config/listener/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"

	"istio.io/istio/istioctl/pkg/util/configdump"
)

// loadConfigDump reads an Envoy config dump (the JSON of Envoy's /config_dump, as
// `istioctl proxy-config --file` reads it) into the resources the simulation
// needs: every static and active dynamic listener, route configuration and cluster.
func loadConfigDump(dumpJSON []byte) (*simConfig, error) {
	w := &configdump.Wrapper{}
	if err := w.UnmarshalJSON(dumpJSON); err != nil {
		return nil, fmt.Errorf("not an Envoy config dump: %w", err)
	}
	c := &simConfig{}
	if ld, err := w.GetListenerConfigDump(); err == nil {
		for _, s := range ld.GetStaticListeners() {
			l := &listener.Listener{}
			if err := s.GetListener().UnmarshalTo(l); err != nil {
				return nil, fmt.Errorf("static listener: %w", err)
			}
			c.Listeners = append(c.Listeners, l)
		}
		for _, d := range ld.GetDynamicListeners() {
			if d.GetActiveState() == nil {
				continue // draining or warming only: not serving
			}
			l := &listener.Listener{}
			if err := d.GetActiveState().GetListener().UnmarshalTo(l); err != nil {
				return nil, fmt.Errorf("listener %q: %w", d.GetName(), err)
			}
			c.Listeners = append(c.Listeners, l)
		}
	}
	if rd, err := w.GetRouteConfigDump(); err == nil {
		for _, s := range rd.GetStaticRouteConfigs() {
			r := &route.RouteConfiguration{}
			if err := s.GetRouteConfig().UnmarshalTo(r); err != nil {
				return nil, fmt.Errorf("static route configuration: %w", err)
			}
			c.Routes = append(c.Routes, r)
		}
		for _, d := range rd.GetDynamicRouteConfigs() {
			r := &route.RouteConfiguration{}
			if err := d.GetRouteConfig().UnmarshalTo(r); err != nil {
				return nil, fmt.Errorf("route configuration: %w", err)
			}
			c.Routes = append(c.Routes, r)
		}
	}
	if cd, err := w.GetClusterConfigDump(); err == nil {
		for _, s := range cd.GetStaticClusters() {
			x := &cluster.Cluster{}
			if err := s.GetCluster().UnmarshalTo(x); err != nil {
				return nil, fmt.Errorf("static cluster: %w", err)
			}
			c.Clusters = append(c.Clusters, x)
		}
		for _, d := range cd.GetDynamicActiveClusters() {
			x := &cluster.Cluster{}
			if err := d.GetCluster().UnmarshalTo(x); err != nil {
				return nil, fmt.Errorf("cluster: %w", err)
			}
			c.Clusters = append(c.Clusters, x)
		}
	}
	if len(c.Listeners)+len(c.Routes)+len(c.Clusters) == 0 {
		return nil, errNoSimConfig
	}
	return c, nil
}
