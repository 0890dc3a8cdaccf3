// Package agentgateway stands in for istiod's optional agentgateway controller when
// pilot-discovery is built by scripts/toolchain.sh. The real package imports
// github.com/agentgateway/agentgateway/api, a module the Go module proxy does not
// serve, and istiod only constructs the controller when PILOT_ENABLE_AGENTGATEWAY is
// true (off by default, and never set by istio-mesh). Setting it with this build
// stops istiod at start-up with the message below instead of misbehaving later.
package agentgateway

import (
	"k8s.io/apimachinery/pkg/runtime/schema"

	"istio.io/istio/pilot/pkg/model"
	"istio.io/istio/pilot/pkg/serviceregistry/kube/controller"
	"istio.io/istio/pilot/pkg/status"
	"istio.io/istio/pilot/pkg/xds"
	"istio.io/istio/pkg/kube"
)

// Controller has the shape istiod's bootstrap uses; it is never constructed.
type Controller struct {
	model.AgentgatewayController
	Registrations []xds.Registration
}

// NewAgwController refuses to run: the agentgateway controller is not part of this build.
func NewAgwController(kube.Client, func(schema.GroupVersionResource, <-chan struct{}) bool, controller.Options) *Controller {
	panic("istio-mesh toolchain: this pilot-discovery is built without the agentgateway controller " +
		"(its module is not served by the Go module proxy); unset PILOT_ENABLE_AGENTGATEWAY")
}

// SetStatusWrite is never reached: NewAgwController does not return.
func (c *Controller) SetStatusWrite(bool, *status.Manager) {}
