package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

// simulateUsage is the subcommand's synopsis.
const simulateUsage = `simulate --dump FILE --port N [--direction outbound|inbound|gateway] [--address IP]
         [--host NAME] [--path /p?q] [--header name=value]... [--protocol http|http2|tcp]
         [--tls plaintext|tls|mtls] [-o text|json]

Answers where a request goes from the configuration a proxy received (an Envoy
config dump): listener and filter chain, route, the clusters with their weights,
timeout, retries, faults, the clusters' upstream TLS and, for inbound requests,
whether the port requires mTLS. Weighted choices are reported as weights, never sampled.`

type simHeaderFlags map[string]string

func (h simHeaderFlags) String() string { return fmt.Sprint(map[string]string(h)) }

func (h simHeaderFlags) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q is not name=value", v)
	}
	h[strings.ToLower(name)] = value
	return nil
}

func init() {
	commands["simulate"] = command{
		summary: "where a request goes, from a proxy's config dump (listener, route, clusters and weights, timeout, retries, faults, mTLS)",
		run:     func(args []string) error { return runSimulate(args, os.Stdout, os.Stderr) },
	}
}

// runSimulate runs the subcommand with its arguments (after the word "simulate").
func runSimulate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintln(stderr, "usage: istio-standin "+simulateUsage) }
	dump := fs.String("dump", "", "Envoy config dump JSON of the proxy (required)")
	headers := simHeaderFlags{}
	req := simRequest{}
	fs.StringVar(&req.Direction, "direction", simOutbound, "outbound (the application calls out), inbound (a peer calls it) or gateway (a router proxy)")
	fs.StringVar(&req.Address, "address", "", "destination IP (for listeners bound to a service address)")
	fs.IntVar(&req.Port, "port", 0, "destination port (required)")
	fs.StringVar(&req.Host, "host", "", "Host header, and SNI of a TLS request")
	fs.StringVar(&req.Path, "path", "/", "request path, with an optional query string")
	fs.Var(headers, "header", "request header name=value (repeatable)")
	fs.StringVar(&req.Protocol, "protocol", "http", "http, http2 or tcp")
	fs.StringVar(&req.TLS, "tls", "plaintext", "plaintext, tls (the application's own) or mtls (Istio mTLS from a peer sidecar)")
	output := fs.String("o", "text", "text or json")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *dump == "" {
		return fmt.Errorf("--dump is required (an Envoy config dump of the proxy)")
	}
	if *output != "text" && *output != "json" {
		return fmt.Errorf("-o %q is not one of text, json", *output)
	}
	if len(headers) > 0 {
		req.Headers = headers
	}
	raw, err := os.ReadFile(*dump)
	if err != nil {
		return err
	}
	cfg, err := loadConfigDump(raw)
	if err != nil {
		return fmt.Errorf("%s: %w", *dump, err)
	}
	ans, err := cfg.Where(req)
	if err != nil {
		return err
	}
	if *output == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(ans)
	}
	_, err = io.WriteString(stdout, ans.Text())
	return err
}

// Text is the answer for a reader.
func (a simAnswer) Text() string {
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	r := a.Request
	line("request:      %s %s %s:%d host=%q path=%q headers=%v", r.Direction, r.TLS, r.Protocol, r.Port, r.Host, r.Path, simSortedHeaders(r.Headers))
	line("listener:     %s", simOrDash(a.Listener))
	line("filter chain: %s", simOrDash(a.FilterChain))
	if a.Accepts != nil {
		line("accepts:      plaintext=%t tls=%t mtls=%t (requires mTLS: %t)", a.Accepts["plaintext"], a.Accepts["tls"], a.Accepts["mtls"], *a.RequiresMTLS)
	}
	if a.RouteConfig != "" || a.VirtualHost != "" {
		line("route config: %s, virtual host %s", simOrDash(a.RouteConfig), simOrDash(a.VirtualHost))
	}
	if rt := a.Route; rt != nil {
		line("route:        #%d %s (%s)", rt.Index, simOrDash(rt.Name), rt.Match)
		if rt.TimeoutSeconds != nil {
			line("timeout:      %gs", *rt.TimeoutSeconds)
		}
		if rt.Retries != nil {
			per := "-"
			if rt.Retries.PerTryTimeoutSeconds != nil {
				per = fmt.Sprintf("%gs", *rt.Retries.PerTryTimeoutSeconds)
			}
			line("retries:      %d, per try %s, on %s", rt.Retries.Attempts, per, strings.Join(rt.Retries.RetryOn, ","))
		}
		if f := rt.Fault; f != nil {
			if f.Delay != nil {
				line("fault delay:  %gs for %g%% of requests", f.Delay.FixedDelaySeconds, f.Delay.Percent)
			}
			if f.Abort != nil {
				line("fault abort:  HTTP %d for %g%% of requests", f.Abort.HTTPStatus, f.Abort.Percent)
			}
		}
		if rt.DirectResponse != 0 {
			line("answered:     HTTP %d by the proxy itself", rt.DirectResponse)
		}
		if rt.Redirect != "" {
			line("redirect:     %s", rt.Redirect)
		}
	}
	for _, c := range a.Clusters {
		w := ""
		if c.Weight != nil {
			w = fmt.Sprintf(" weight %d", *c.Weight)
		}
		line("cluster:      %s%s (%s, upstream TLS %s)", c.Name, w, c.Type, c.UpstreamTLS)
	}
	if a.Error != "" {
		line("not forwarded: %s", a.Error)
	}
	return b.String()
}

func simOrDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func simSortedHeaders(h map[string]string) []string {
	out := make([]string, 0, len(h))
	for k, v := range h {
		out = append(out, k+"="+v)
	}
	sort.Strings(out)
	return out
}
