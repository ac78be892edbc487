package main

// The checks, on what the Tiltfile's calls recorded: every path exists, every image build fits its Dockerfile and
// the objects given to k8s_yaml, every k8s_resource names one of those workloads.

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"go.starlark.net/starlark"
)

// run loads the Tiltfile and checks what it asked for; it returns the problems found.
func (c *checker) run(name string, src []byte) []string {
	if err := c.load(name, src); err != nil {
		return []string{"the Tiltfile fails to load: " + err.Error()}
	}
	if len(c.objects) == 0 {
		c.problem("nothing is given to k8s_yaml: Tilt would deploy nothing")
	}
	workloads := map[string][]map[string]any{}              // name: containers
	resources, used := map[string]bool{}, map[string]bool{} // used: the image repositories containers run
	for _, o := range c.objects {
		if ctrs := containers(o); len(ctrs) > 0 {
			meta, _ := o["metadata"].(map[string]any)
			name := fmt.Sprint(meta["name"])
			workloads[name], resources[name] = ctrs, true
			for _, ctr := range ctrs {
				used[imageRepo(fmt.Sprint(ctr["image"]))] = true
			}
		}
	}
	for _, k := range c.calls { // the other resources: renamed workloads or groups of objects, and local ones
		if n := str(k.args["new_name"]); k.fn == "k8s_resource" && n != "" {
			resources[n] = true
		} else if k.fn == "local_resource" {
			resources[str(k.args["name"])] = true
		}
	}
	for _, k := range c.calls {
		at := k.pos + ": " + k.fn
		switch k.fn {
		case "docker_build":
			c.dockerBuild(at+"("+str(k.args["ref"])+")", k.args, used)
		case "local_resource":
			c.exist(at+"("+str(k.args["name"])+")", "deps entry", strs(k.args["deps"])...)
		case "sync":
			c.exist(at, "source", str(k.args["local_path"]))
		case "fall_back_on":
			c.exist(at, "path", strs(k.args["files"])...)
		case "run": // triggers are build output (dist/) that may not exist yet; the folder holding it must
			for _, t := range strs(k.args["trigger"]) {
				c.exist(at, "folder of trigger", filepath.Dir(t))
			}
		case "k8s_resource":
			w := str(k.args["workload"])
			at += "(" + w + ")"
			if o, ok := workloads[w]; ok {
				c.portForwards(at, k.args["port_forwards"], o)
			} else if w != "" {
				c.problem("%s: no workload named %q among the objects given to k8s_yaml (workloads: %s)", at, w,
					strings.Join(slices.Sorted(maps.Keys(workloads)), ", "))
			}
		}
		for _, d := range strs(k.args["resource_deps"]) {
			if !resources[d] {
				c.problem("%s: resource_deps entry %q is not a workload, a k8s_resource or a local_resource", at, d)
			}
		}
	}
	return c.problems
}

// exist reports each path that does not exist; it says whether all do.
func (c *checker) exist(at, what string, paths ...string) bool {
	ok := true
	for _, p := range paths {
		if _, err := os.Stat(p); err != nil {
			c.problem("%s: %s %q does not exist", at, what, p)
			ok = false
		}
	}
	return ok
}

var stageRe = regexp.MustCompile(`(?im)^\s*FROM\s+(?:--\S+\s+)*\S+\s+AS\s+(\S+)\s*$`)

func (c *checker) dockerBuild(at string, a args, used map[string]bool) {
	ctx := str(a["context"])
	c.exist(at, "context", ctx)
	for _, o := range strs(a["only"]) {
		c.exist(at, "only entry", filepath.Join(ctx, o))
	}
	df := str(a["dockerfile"])
	if df == "" && a["dockerfile_contents"] == nil {
		df = filepath.Join(ctx, "Dockerfile")
	}
	if target := str(a["target"]); df != "" && c.exist(at, "dockerfile", df) && target != "" {
		data, _ := os.ReadFile(df)
		var stages []string
		for _, m := range stageRe.FindAllStringSubmatch(string(data), -1) {
			stages = append(stages, strings.ToLower(m[1]))
		}
		if !slices.Contains(stages, strings.ToLower(target)) {
			c.problem("%s: target %q is not a stage of %s (stages: %s)", at, target, df, strings.Join(stages, ", "))
		}
	}
	if ref := str(a["ref"]); !used[imageRepo(ref)] {
		c.problem("%s: no container among the objects given to k8s_yaml uses image %q", at, ref)
	}
}

// portForwards: each forward's container port (the local one when not given) is one the workload declares.
func (c *checker) portForwards(at string, v starlark.Value, ctrs []map[string]any) {
	var declared []string
	for _, ctr := range ctrs {
		ports, _ := ctr["ports"].([]any)
		for _, p := range ports {
			m, _ := p.(map[string]any)
			declared = append(declared, fmt.Sprint(m["containerPort"]))
		}
	}
	for _, pf := range items(v) {
		port := strings.Trim(pf.String(), `"`) // LOCAL, 'LOCAL:CONTAINER' or 'HOST:LOCAL:CONTAINER'
		if port = port[strings.LastIndex(port, ":")+1:]; !slices.Contains(declared, port) {
			c.problem("%s: port forward to %s, but the workload declares no container port %s (declared: %s)", at, port, port, strings.Join(declared, ", "))
		}
	}
}

// containers finds an object's containers (and init containers) wherever its kind keeps them: Tilt makes a
// workload of every object that has some.
func containers(v any) (out []map[string]any) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if list, ok := x.([]any); ok && (k == "containers" || k == "initContainers") {
				for _, ctr := range list {
					m, _ := ctr.(map[string]any)
					out = append(out, m)
				}
			} else {
				out = append(out, containers(x)...)
			}
		}
	case []any:
		for _, x := range v {
			out = append(out, containers(x)...)
		}
	}
	return out
}

// imageRepo drops the tag or digest and Docker Hub's implicit prefixes: Tilt matches images by what is left.
func imageRepo(ref string) string {
	ref, _, _ = strings.Cut(ref, "@")
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	return strings.TrimPrefix(strings.TrimPrefix(ref, "docker.io/"), "library/")
}
