// Command istio-standin stands in for the Istio proxy of one Kubernetes pod: it
// obtains the pod's workload certificate from istiod's CA and holds the pod's
// xDS connection to istiod, with the identity, node metadata and proxy
// configuration the pod's istio-proxy container would use. It runs no Envoy
// and carries no traffic; what istiod served is written out as an Envoy
// config dump. Every protocol step is Istio's own client code (the istio-agent's
// CA client and secret cache, the ADS client of Istio's tests and load tools,
// pilot-agent's node metadata and proxy config builders), built from the same
// istio.io/istio module as the pilot-discovery it talks to.
//
// Subcommands register themselves in `commands` from their own files, so a new
// one is a new file.
//
// See docs/proxy-standin.md for the command line and what it proves.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"sort"
)

type command struct {
	summary string
	run     func(args []string) error
}

var commands = map[string]command{}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: istio-standin <command> [flags]   (istio-standin <command> -h for its flags)")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-10s %s\n", n, commands[n].summary)
	}
}

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	c, ok := commands[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "istio-standin: unknown command %q\n", os.Args[1])
		usage()
		os.Exit(2)
	}
	if err := c.run(os.Args[2:]); errors.Is(err, flag.ErrHelp) {
		return
	} else if err != nil {
		fmt.Fprintf(os.Stderr, "istio-standin %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}
