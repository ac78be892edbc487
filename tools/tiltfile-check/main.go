// Command tiltfile-check proves the repository's Tiltfile would load and fit together, without Tilt or a cluster:
// it executes the Tiltfile (Starlark, go.starlark.net, as Tilt does) with stand-ins for the Tilt builtins it calls,
// which take Tilt's own parameter names (an unknown keyword is an error, as in Tilt) and record instead of acting;
// then it checks what they recorded against the repository and the rendered Helm chart:
//
//   - every path the Tiltfile names exists (build contexts, Dockerfiles, only=, deps=, sync sources, the chart, its
//     values files), and no path leaves the repository;
//
//   - every docker_build target is a stage of its Dockerfile, and everything that target's stages copy from the
//     build context is inside only= (else the image build fails under Tilt only);
//
//   - Live Update steps are in an order Tilt accepts, sync sources and run() triggers are inside the build context
//     and not excluded by only=, ignore= or .dockerignore (Tilt would never see them change), and no
//     restart_container() (Docker Compose only) is used for Kubernetes;
//
//   - every image a docker_build names is used by a container of the YAML given to k8s_yaml (the rendered chart);
//
//   - each helm() call gets the documents of its own chart out of the rendering, and no object is given to
//     k8s_yaml twice (Tilt stops at a duplicate);
//
//   - every k8s_resource names a workload of that YAML, every resource_deps entry an existing resource (a workload,
//     a renamed k8s_resource or a local_resource), with no cycles; every port forward targets a container port of
//     its workload; labels are ones Tilt accepts.
//
//     go run . -rendered rendered.yaml ../../Tiltfile
//
// The rendering is what scripts/check-tiltfile.sh writes: `helm template` of each chart the Tiltfile deploys
// (flash-sale with values-dev.yaml, flash-sale-infra), one after the other; each helm() call in the Tiltfile returns
// the documents of its chart (by helm's `# Source: <chart>/...` marks).
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	rendered := flag.String("rendered", "", "output of `helm template` for the chart the Tiltfile deploys")
	flag.Parse()
	if flag.NArg() != 1 || *rendered == "" {
		fmt.Fprintln(os.Stderr, "usage: tiltfile-check -rendered rendered.yaml path/to/Tiltfile")
		os.Exit(2)
	}
	tiltfile := flag.Arg(0)
	root, err := filepath.Abs(filepath.Dir(tiltfile))
	if err != nil {
		fmt.Fprintf(os.Stderr, "tiltfile-check: %v\n", err)
		os.Exit(1)
	}
	env := map[string]string{}
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	result, err := check(options{tiltfile: tiltfile, root: root, rendered: *rendered, env: env})
	if err != nil {
		fmt.Fprintf(os.Stderr, "tiltfile-check: %v\n", err)
		os.Exit(1)
	}
	for _, w := range result.warnings {
		fmt.Fprintf(os.Stderr, "tiltfile-check: warning: %s\n", w)
	}
	if len(result.problems) > 0 {
		fmt.Fprintf(os.Stderr, "tiltfile-check: %s would not work:\n  %s\n", tiltfile, strings.Join(result.problems, "\n  "))
		os.Exit(1)
	}
	fmt.Printf("tiltfile-check: %s is consistent (%d images, %d local resources, %d Kubernetes resources configured, %d objects deployed)\n",
		tiltfile, len(result.images), len(result.locals), len(result.k8sResources), len(result.objects))
}
