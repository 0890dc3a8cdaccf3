// Project runtime options for the toolchain's Node.js language host (sdk v3.68.0).
//
// Why it exists: a v3.68.0 host learns the project's runtime options
// (`runtime.options` in Pulumi.yaml: typescript, nodeargs, tsconfig) only from
// command-line flags, which the CLI of that time built from Pulumi.yaml. The CLI
// the toolchain builds (v3.248) no longer passes them as flags: it sends them in
// the Run request's program info, a field v3.68.0's protocol does not have. So
// the unpatched host ran every program with its defaults, `typescript: true`
// among them: `typescript: false` was ignored, ts-node was registered and the
// TypeScript compiler loaded on every `pulumi` run (about 0.5 s of CPU in a
// preview of this project), and `nodeargs` never reached Node.js.
//
// This file reads those options from the project the program runs in, as the
// CLI of v3.68.0's time did, and applies them to that run only: build_language_nodejs
// inserts `host = host.withProjectOptions(req)` at the start of execNodejs. The
// host's flags remain the defaults for a project that does not set an option.
package main

import (
	"fmt"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"

	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
)

// withProjectOptions returns a copy of the host with the runtime options of the
// project found from the run's working directory applied over its flags.
func (host *nodeLanguageHost) withProjectOptions(req *pulumirpc.RunRequest) *nodeLanguageHost {
	path, err := workspace.DetectProjectPathFrom(req.GetPwd())
	if err != nil || path == "" {
		logging.V(5).Infof("no project found from %q; runtime options from flags only", req.GetPwd())
		return host
	}
	project, err := workspace.LoadProject(path)
	if err != nil {
		logging.V(5).Infof("could not load %s: %v; runtime options from flags only", path, err)
		return host
	}
	applied := *host
	for key, value := range project.Runtime.Options() {
		switch key {
		case "typescript":
			if b, ok := value.(bool); ok {
				applied.typescript = b
			}
		case "nodeargs":
			applied.nodeargs = fmt.Sprint(value)
		case "tsconfig":
			applied.tsconfigpath = fmt.Sprint(value)
		}
	}
	return &applied
}
