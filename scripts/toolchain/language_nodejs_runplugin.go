// RunPlugin for the toolchain's Node.js language host (sdk v3.68.0, the newest
// release the Go module proxy serves as a package; see scripts/toolchain.sh).
//
// Why it exists: the Pulumi CLI the toolchain builds starts a Node.js policy pack
// (`pulumi preview --policy-pack <dir>`) through the language host's RunPlugin
// whenever a `nodejs` language plugin is installed, and v3.68.0's RunPlugin only
// answers "not supported". The CLI then stops with
//
//	error: policy pack "<dir>" failed to start: could not read plugin [<dir>]: not supported
//
// This file replaces that stub (build_language_nodejs deletes the stub from the
// copied main.go). It does for an analyzer what Pulumi's `pulumi-analyzer-policy`
// launcher did before the CLI moved policy packs to the language host: run
// `@pulumi/pulumi/cmd/run-policy-pack`, resolved from the pack's own directory
// (so from the node_modules of the pack or of a folder above it), with the engine
// address and the pack directory, and relay its output and exit code.
//
// Limits: analyzers only (other plugin kinds still get "not supported"); the pack
// runs as JavaScript (the runtime's `typescript` option is not read, so a pack
// must be built ahead of time, as this project's is).
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"google.golang.org/protobuf/encoding/protowire"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Field numbers of RunPluginRequest that v3.68.0's generated code does not know;
// newer CLIs send them and the message keeps them as unknown fields.
const (
	runPluginInfoField         = 5 // ProgramInfo info
	runPluginKindField         = 6 // string kind ("analyzer", "resource", ...)
	programInfoDirectoryField  = 2 // ProgramInfo.program_directory
	policyPackRunScriptPackage = "@pulumi/pulumi/cmd/run-policy-pack"
)

// unknownStrings returns the length-delimited fields of raw protobuf bytes by field number.
func unknownStrings(raw []byte) (map[protowire.Number][]byte, error) {
	fields := map[protowire.Number][]byte{}
	for len(raw) > 0 {
		num, typ, n := protowire.ConsumeTag(raw)
		if n < 0 {
			return nil, protowire.ParseError(n)
		}
		raw = raw[n:]
		if typ == protowire.BytesType {
			v, m := protowire.ConsumeBytes(raw)
			if m < 0 {
				return nil, protowire.ParseError(m)
			}
			fields[num] = v
			raw = raw[m:]
			continue
		}
		m := protowire.ConsumeFieldValue(num, typ, raw)
		if m < 0 {
			return nil, protowire.ParseError(m)
		}
		raw = raw[m:]
	}
	return fields, nil
}

// pluginRequest reads the plugin kind and program directory a newer CLI sent.
func pluginRequest(req *pulumirpc.RunPluginRequest) (kind string, dir string, err error) {
	fields, err := unknownStrings(req.ProtoReflect().GetUnknown())
	if err != nil {
		return "", "", fmt.Errorf("reading RunPlugin request: %w", err)
	}
	kind = string(fields[runPluginKindField])
	if info, ok := fields[runPluginInfoField]; ok {
		infoFields, err := unknownStrings(info)
		if err != nil {
			return "", "", fmt.Errorf("reading RunPlugin program info: %w", err)
		}
		dir = string(infoFields[programInfoDirectoryField])
	}
	if dir == "" {
		// An older CLI names the program directly.
		dir = req.GetProgram()
	}
	return kind, dir, nil
}

// streamSender serialises Send calls: gRPC streams allow one sender at a time.
type streamSender struct {
	mu     sync.Mutex
	server pulumirpc.LanguageRuntime_RunPluginServer
}

func (s *streamSender) send(resp *pulumirpc.RunPluginResponse) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.server.Send(resp)
}

// relay copies r to the stream, wrapping each chunk with wrap.
func (s *streamSender) relay(r io.Reader, wrap func([]byte) *pulumirpc.RunPluginResponse, done *sync.WaitGroup) {
	defer done.Done()
	buf := make([]byte, 32*1024)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			chunk := append([]byte(nil), buf[:n]...)
			if sendErr := s.send(wrap(chunk)); sendErr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (host *nodeLanguageHost) RunPlugin(
	req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer,
) error {
	kind, dir, err := pluginRequest(req)
	if err != nil {
		return err
	}
	if kind != "analyzer" {
		return fmt.Errorf("running %q plugins is not supported by this language host (analyzers only)", kind)
	}
	if dir == "" {
		return fmt.Errorf("RunPlugin: the request names no policy pack directory")
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return err
	}
	ctx := server.Context()

	// Resolved from the pack's directory, as Node would resolve the pack's own imports.
	resolve := exec.CommandContext(ctx, "node", "-e",
		fmt.Sprintf("console.log(require.resolve(%q))", policyPackRunScriptPackage))
	resolve.Dir = dir
	out, err := resolve.Output()
	if err != nil {
		return fmt.Errorf("could not find %s from %s (are the pack's dependencies installed? run npm ci): %w",
			policyPackRunScriptPackage, dir, err)
	}
	script := strings.TrimSpace(string(out))

	args := append([]string{script}, req.GetArgs()...)
	args = append(args, dir)
	// Not CommandContext: the goroutine below kills node when the stream ends.
	cmd := exec.Command("node", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), req.GetEnv()...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	// The CLI cancels the stream to stop the analyzer: stop node with it.
	stopped := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = cmd.Process.Kill()
		case <-stopped:
		}
	}()

	sender := &streamSender{server: server}
	var relays sync.WaitGroup
	relays.Add(2)
	go sender.relay(stdout, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: b}}
	}, &relays)
	go sender.relay(stderr, func(b []byte) *pulumirpc.RunPluginResponse {
		return &pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: b}}
	}, &relays)
	relays.Wait()
	waitErr := cmd.Wait()
	close(stopped)

	code := 0
	if waitErr != nil {
		if exit, ok := waitErr.(*exec.ExitError); ok {
			code = exit.ExitCode()
		} else {
			return waitErr
		}
	}
	return sender.send(&pulumirpc.RunPluginResponse{
		Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)},
	})
}
