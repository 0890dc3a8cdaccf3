package main

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	cluster "github.com/envoyproxy/go-control-plane/envoy/config/cluster/v3"
	core "github.com/envoyproxy/go-control-plane/envoy/config/core/v3"
	route "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	fault "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/fault/v3"
	tls "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	matcher "github.com/envoyproxy/go-control-plane/envoy/type/matcher/v3"
	envoytype "github.com/envoyproxy/go-control-plane/envoy/type/v3"
	"github.com/envoyproxy/go-control-plane/pkg/wellknown"
	"google.golang.org/protobuf/types/known/durationpb"
)

// Names Istio gives the SDS secrets of its mTLS: the workload's key and
// certificate, and the mesh's root (istio.io/istio pkg/security).
const (
	simIstioCertSecret = "default"
	simIstioRootSecret = "ROOTCA"
)

// simMatchRoute returns the index of the first route of the virtual host that the
// request matches (Envoy tries them in order), or -1.
func simMatchRoute(vh *route.VirtualHost, req simRequest) (int, error) {
	path, rawQuery, _ := strings.Cut(req.Path, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return -1, fmt.Errorf("request path %q: query string: %w", req.Path, err)
	}
	headers := map[string]string{}
	for k, v := range req.Headers {
		headers[strings.ToLower(k)] = v
	}
	if req.Host != "" {
		headers[":authority"] = req.Host
		headers["host"] = req.Host
	}
	headers[":path"] = req.Path
	headers[":method"] = "GET"
	if m, ok := req.Headers[":method"]; ok {
		headers[":method"] = m
	}
	for i, r := range vh.GetRoutes() {
		ok, err := simRouteMatches(r.GetMatch(), path, query, headers)
		if err != nil {
			return -1, fmt.Errorf("virtual host %q, route %d (%q): %w", vh.GetName(), i, r.GetName(), err)
		}
		if ok {
			return i, nil
		}
	}
	return -1, nil
}

func simRouteMatches(m *route.RouteMatch, path string, query url.Values, headers map[string]string) (bool, error) {
	caseSensitive := m.GetCaseSensitive() == nil || m.GetCaseSensitive().GetValue()
	fold := func(s string) string {
		if caseSensitive {
			return s
		}
		return strings.ToLower(s)
	}
	switch ps := m.GetPathSpecifier().(type) {
	case *route.RouteMatch_Prefix:
		if !strings.HasPrefix(fold(path), fold(ps.Prefix)) {
			return false, nil
		}
	case *route.RouteMatch_Path:
		if fold(path) != fold(ps.Path) {
			return false, nil
		}
	case *route.RouteMatch_PathSeparatedPrefix:
		p := fold(ps.PathSeparatedPrefix)
		fp := fold(path)
		if fp != p && !strings.HasPrefix(fp, p+"/") {
			return false, nil
		}
	case *route.RouteMatch_SafeRegex:
		ok, err := simFullMatch(ps.SafeRegex.GetRegex(), path)
		if err != nil || !ok {
			return false, err
		}
	default:
		return false, fmt.Errorf("path match %T is not supported by the simulation", ps)
	}
	for _, h := range m.GetHeaders() {
		ok, err := simHeaderMatches(h, headers)
		if err != nil || !ok {
			return false, err
		}
	}
	for _, q := range m.GetQueryParameters() {
		values, present := query[q.GetName()]
		switch qs := q.GetQueryParameterMatchSpecifier().(type) {
		case *route.QueryParameterMatcher_PresentMatch:
			if present != qs.PresentMatch {
				return false, nil
			}
		case *route.QueryParameterMatcher_StringMatch:
			if !present {
				return false, nil
			}
			ok, err := simStringMatches(qs.StringMatch, values[0])
			if err != nil || !ok {
				return false, err
			}
		default:
			if !present {
				return false, nil
			}
		}
	}
	if m.GetGrpc() != nil && headers["content-type"] != "application/grpc" &&
		!strings.HasPrefix(headers["content-type"], "application/grpc+") {
		return false, nil
	}
	if m.GetRuntimeFraction() != nil || len(m.GetDynamicMetadata()) > 0 || m.GetFilterState() != nil {
		return false, fmt.Errorf("runtime fraction, dynamic metadata and filter state matches are decided at run time, not by the configuration")
	}
	return true, nil
}

// simHeaderMatches follows Envoy's HeaderMatcher: a missing header never matches
// (unless treated as empty), and invert_match flips the result of the specifier.
func simHeaderMatches(h *route.HeaderMatcher, headers map[string]string) (bool, error) {
	value, present := headers[strings.ToLower(h.GetName())]
	if !present && h.GetTreatMissingHeaderAsEmpty() {
		value, present = "", true
	}
	// A missing header matches no specifier but presence (Envoy's HeaderUtility).
	var ok bool
	switch s := h.GetHeaderMatchSpecifier().(type) {
	case nil, *route.HeaderMatcher_PresentMatch:
		// No specifier means present_match: true. invert_match applies on top.
		want := true
		if p, isPresent := s.(*route.HeaderMatcher_PresentMatch); isPresent {
			want = p.PresentMatch
		}
		return (present == want) != h.GetInvertMatch(), nil
	case *route.HeaderMatcher_StringMatch:
		if !present {
			return false, nil
		}
		var err error
		if ok, err = simStringMatches(s.StringMatch, value); err != nil {
			return false, fmt.Errorf("header %q: %w", h.GetName(), err)
		}
	case *route.HeaderMatcher_ExactMatch:
		ok = present && value == s.ExactMatch
	case *route.HeaderMatcher_PrefixMatch:
		ok = present && strings.HasPrefix(value, s.PrefixMatch)
	case *route.HeaderMatcher_SuffixMatch:
		ok = present && strings.HasSuffix(value, s.SuffixMatch)
	case *route.HeaderMatcher_ContainsMatch:
		ok = present && strings.Contains(value, s.ContainsMatch)
	case *route.HeaderMatcher_SafeRegexMatch:
		if !present {
			return false, nil
		}
		var err error
		if ok, err = simFullMatch(s.SafeRegexMatch.GetRegex(), value); err != nil {
			return false, fmt.Errorf("header %q: %w", h.GetName(), err)
		}
	case *route.HeaderMatcher_RangeMatch:
		n, err := strconv.ParseInt(value, 10, 64)
		ok = present && err == nil && n >= s.RangeMatch.GetStart() && n < s.RangeMatch.GetEnd()
	default:
		return false, fmt.Errorf("header %q: match %T is not supported by the simulation", h.GetName(), s)
	}
	if !present {
		return false, nil
	}
	if h.GetInvertMatch() {
		ok = !ok
	}
	return ok, nil
}

func simStringMatches(m *matcher.StringMatcher, value string) (bool, error) {
	v := value
	fold := func(s string) string { return s }
	if m.GetIgnoreCase() {
		v = strings.ToLower(v)
		fold = strings.ToLower
	}
	switch p := m.GetMatchPattern().(type) {
	case *matcher.StringMatcher_Exact:
		return v == fold(p.Exact), nil
	case *matcher.StringMatcher_Prefix:
		return strings.HasPrefix(v, fold(p.Prefix)), nil
	case *matcher.StringMatcher_Suffix:
		return strings.HasSuffix(v, fold(p.Suffix)), nil
	case *matcher.StringMatcher_Contains:
		return strings.Contains(v, fold(p.Contains)), nil
	case *matcher.StringMatcher_SafeRegex:
		return simFullMatch(p.SafeRegex.GetRegex(), value)
	default:
		return false, fmt.Errorf("string match %T is not supported by the simulation", p)
	}
}

// simFullMatch is Envoy's safe_regex: RE2 (Go's regexp is RE2), matching the whole value.
func simFullMatch(expr, value string) (bool, error) {
	re, err := regexp.Compile(`^(?:` + expr + `)$`)
	if err != nil {
		return false, fmt.Errorf("regex %q: %w", expr, err)
	}
	return re.MatchString(value), nil
}

func simDescribeMatch(m *route.RouteMatch) string {
	var parts []string
	switch ps := m.GetPathSpecifier().(type) {
	case *route.RouteMatch_Prefix:
		parts = append(parts, "prefix "+ps.Prefix)
	case *route.RouteMatch_Path:
		parts = append(parts, "path "+ps.Path)
	case *route.RouteMatch_PathSeparatedPrefix:
		parts = append(parts, "path-separated prefix "+ps.PathSeparatedPrefix)
	case *route.RouteMatch_SafeRegex:
		parts = append(parts, "regex "+ps.SafeRegex.GetRegex())
	}
	for _, h := range m.GetHeaders() {
		d := "header " + h.GetName()
		switch s := h.GetHeaderMatchSpecifier().(type) {
		case *route.HeaderMatcher_StringMatch:
			switch p := s.StringMatch.GetMatchPattern().(type) {
			case *matcher.StringMatcher_Exact:
				d += " = " + p.Exact
			case *matcher.StringMatcher_Prefix:
				d += " starts with " + p.Prefix
			case *matcher.StringMatcher_Suffix:
				d += " ends with " + p.Suffix
			case *matcher.StringMatcher_Contains:
				d += " contains " + p.Contains
			case *matcher.StringMatcher_SafeRegex:
				d += " ~ " + p.SafeRegex.GetRegex()
			}
		case *route.HeaderMatcher_PresentMatch:
			d += fmt.Sprintf(" present=%t", s.PresentMatch)
		}
		if h.GetInvertMatch() {
			d = "not " + d
		}
		parts = append(parts, d)
	}
	for _, q := range m.GetQueryParameters() {
		parts = append(parts, "query "+q.GetName())
	}
	return strings.Join(parts, ", ")
}

// simDescribeRoute reports what the route does, and the clusters it chooses between.
func simDescribeRoute(vh *route.VirtualHost, r *route.Route, index int) (*simRoute, []simWeighted, error) {
	ra := &simRoute{Name: r.GetName(), Index: index, Match: simDescribeMatch(r.GetMatch())}
	f, err := simRouteFault(r)
	if err != nil {
		return nil, nil, fmt.Errorf("route %q: %w", r.GetName(), err)
	}
	ra.Fault = f
	switch a := r.GetAction().(type) {
	case *route.Route_DirectResponse:
		ra.DirectResponse = a.DirectResponse.GetStatus()
		return ra, nil, nil
	case *route.Route_Redirect:
		ra.Redirect = simRedirect(a.Redirect)
		return ra, nil, nil
	case *route.Route_Route:
		action := a.Route
		ra.TimeoutSeconds = simSeconds(action.GetTimeout())
		policy := action.GetRetryPolicy()
		fromVH := false
		if policy == nil && vh.GetRetryPolicy() != nil {
			policy, fromVH = vh.GetRetryPolicy(), true
		}
		if policy != nil {
			ra.Retries = &simRetries{
				Attempts:               policy.GetNumRetries().GetValue(),
				PerTryTimeoutSeconds:   simSeconds(policy.GetPerTryTimeout()),
				RetryOn:                strings.Split(policy.GetRetryOn(), ","),
				RetriableStatusCodes:   policy.GetRetriableStatusCodes(),
				FromVirtualHostDefault: fromVH,
			}
			// Envoy's default when num_retries is unset is 1.
			if policy.GetNumRetries() == nil {
				ra.Retries.Attempts = 1
			}
		}
		switch cs := action.GetClusterSpecifier().(type) {
		case *route.RouteAction_Cluster:
			return ra, []simWeighted{{name: cs.Cluster}}, nil
		case *route.RouteAction_WeightedClusters:
			var out []simWeighted
			for _, c := range cs.WeightedClusters.GetClusters() {
				w := c.GetWeight().GetValue()
				out = append(out, simWeighted{c.GetName(), &w})
			}
			return ra, out, nil
		default:
			return nil, nil, fmt.Errorf("route %q: cluster choice %T is made at run time and is not simulated", r.GetName(), cs)
		}
	default:
		return nil, nil, fmt.Errorf("route %q: action %T is not supported by the simulation", r.GetName(), a)
	}
}

func simRedirect(r *route.RedirectAction) string {
	u := ""
	if r.GetSchemeRedirect() != "" {
		u += r.GetSchemeRedirect() + "://"
	} else if r.GetHttpsRedirect() {
		u += "https://"
	}
	u += r.GetHostRedirect()
	if r.GetPortRedirect() != 0 {
		u += fmt.Sprintf(":%d", r.GetPortRedirect())
	}
	u += r.GetPathRedirect()
	return fmt.Sprintf("%s (%s)", u, r.GetResponseCode())
}

func simRouteFault(r *route.Route) (*simFault, error) {
	a, ok := r.GetTypedPerFilterConfig()[wellknown.Fault]
	if !ok {
		return nil, nil
	}
	hf := &fault.HTTPFault{}
	if err := a.UnmarshalTo(hf); err != nil {
		return nil, fmt.Errorf("fault filter config: %w", err)
	}
	out := &simFault{}
	if d := hf.GetDelay(); d != nil {
		out.Delay = &simDelay{Percent: simPercent(d.GetPercentage())}
		if s := simSeconds(d.GetFixedDelay()); s != nil {
			out.Delay.FixedDelaySeconds = *s
		}
	}
	if ab := hf.GetAbort(); ab != nil {
		out.Abort = &simAbort{HTTPStatus: ab.GetHttpStatus(), GRPCStatus: ab.GetGrpcStatus(), Percent: simPercent(ab.GetPercentage())}
	}
	if out.Delay == nil && out.Abort == nil {
		return nil, nil
	}
	return out, nil
}

func simPercent(p *envoytype.FractionalPercent) float64 {
	if p == nil {
		// Envoy's default for a fault without a percentage: every request.
		return 100
	}
	den := map[envoytype.FractionalPercent_DenominatorType]float64{
		envoytype.FractionalPercent_HUNDRED:      100,
		envoytype.FractionalPercent_TEN_THOUSAND: 10_000,
		envoytype.FractionalPercent_MILLION:      1_000_000,
	}[p.GetDenominator()]
	return float64(p.GetNumerator()) * 100 / den
}

func simSeconds(d *durationpb.Duration) *float64 {
	if d == nil {
		return nil
	}
	s := d.AsDuration().Seconds()
	return &s
}

func simClusterType(c *cluster.Cluster) string {
	if ct := c.GetClusterType(); ct != nil {
		return ct.GetName()
	}
	return c.GetType().String()
}

// simUpstreamTLS says how the proxy talks to the cluster's endpoints.
func simUpstreamTLS(c *cluster.Cluster) string {
	if ts := c.GetTransportSocket(); ts != nil {
		return simTLSKind(ts)
	}
	kinds := map[string]bool{}
	for _, m := range c.GetTransportSocketMatches() {
		kinds[simTLSKind(m.GetTransportSocket())] = true
	}
	switch {
	case kinds["istio-mtls"] && kinds["none"]:
		return "istio-mtls-auto"
	case kinds["istio-mtls"]:
		return "istio-mtls"
	case kinds["tls"]:
		return "tls"
	}
	return "none"
}

func simTLSKind(ts *core.TransportSocket) string {
	if ts == nil || ts.GetName() != wellknown.TransportSocketTLS {
		return "none"
	}
	ctx := &tls.UpstreamTlsContext{}
	if err := ts.GetTypedConfig().UnmarshalTo(ctx); err != nil {
		return "tls"
	}
	common := ctx.GetCommonTlsContext()
	certs := common.GetTlsCertificateSdsSecretConfigs()
	root := common.GetCombinedValidationContext().GetValidationContextSdsSecretConfig().GetName()
	if len(certs) > 0 && certs[0].GetName() == simIstioCertSecret && root == simIstioRootSecret {
		return "istio-mtls"
	}
	return "tls"
}
