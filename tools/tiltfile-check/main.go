// Command tiltfile-check proves the repository's Tiltfile would work, without Tilt or a cluster: it executes the
// Tiltfile with go.starlark.net, the interpreter Tilt uses, with Tilt's builtins stubbed (helm() runs `helm template`
// with the Tiltfile's arguments, as Tilt's does), then checks that every path it names exists, every docker_build's
// target is a stage of its Dockerfile and its image runs in a container of the objects given to k8s_yaml, every
// k8s_resource names one of those workloads and forwards to a port it declares, and every resource_deps entry is a
// resource. Building the images and installing the charts for real is `npm run test:k8s`'s part.
//
//	tiltfile-check -helm path/to/helm path/to/Tiltfile
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

func main() {
	helmFlag := flag.String("helm", "helm", "the helm binary helm() runs")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: tiltfile-check [-helm path/to/helm] path/to/Tiltfile")
		os.Exit(2)
	}
	tiltfile, err := filepath.Abs(flag.Arg(0))
	fatal(err)
	src, err := os.ReadFile(tiltfile)
	fatal(err)
	helm, err := exec.LookPath(*helmFlag)
	fatal(err)
	helm, err = filepath.Abs(helm)
	fatal(err)
	fatal(os.Chdir(filepath.Dir(tiltfile))) // Tilt resolves the Tiltfile's paths from its folder
	c := &checker{render: func(args []string) (string, error) {
		out, err := exec.Command(helm, args...).Output()
		if e, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%v: %s", err, strings.TrimSpace(string(e.Stderr)))
		}
		return string(out), err
	}}
	if problems := c.run(filepath.Base(tiltfile), src); len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "tiltfile-check: %s would not work:\n  %s\n", tiltfile, strings.Join(problems, "\n  "))
		os.Exit(1)
	}
	fmt.Printf("tiltfile-check: %s would work (%d builtin calls, %d objects deployed)\n", tiltfile, len(c.calls), len(c.objects))
}

func fatal(err error) {
	if err != nil {
		fmt.Fprintf(os.Stderr, "tiltfile-check: %v\n", err)
		os.Exit(1)
	}
}
