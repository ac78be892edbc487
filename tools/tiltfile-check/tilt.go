package main

// Stand-ins for the Tilt builtins a Tiltfile calls. Each takes the parameters Tilt's API reference
// (https://docs.tilt.dev/api.html) gives it, under the same names: a keyword Tilt does not know is an error here,
// as it is in Tilt (starlark.UnpackArgs rejects it). Instead of building, deploying or running anything, they
// record what the Tiltfile asks for; checks.go then holds that against the repository and the rendered chart.

import (
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.yaml.in/yaml/v3"
)

// A recorded docker_build.
type image struct {
	pos, ref, context, dockerfile, target string
	only, ignore                          []string
	buildArgs                             map[string]string
	steps                                 []*liveUpdateStep
}

type localResource struct {
	pos, name    string
	deps         []string
	resourceDeps []string
	labels       []string
}

type k8sResource struct {
	pos, workload, newName string
	portForwards           []portForward
	resourceDeps           []string
	objects                []string
	labels                 []string
}

type helmCall struct {
	pos, chart, name, namespace string
	values                      []string
	chartName                   string // as helm marks its documents (Chart.yaml's name)
	rendered                    string // what the stand-in returned: this chart's documents
}

// liveUpdateStep is what sync(), run(), fall_back_on(), initial_sync() and restart_container() return.
type liveUpdateStep struct {
	pos, kind    string // "sync", "run", "fall_back_on", "initial_sync", "restart_container"
	src, dest    string // sync
	cmd          string // run
	paths        []string
	echoOff      bool
	usedByImages int
}

func (s *liveUpdateStep) String() string       { return s.kind + "(...)" }
func (s *liveUpdateStep) Type() string         { return "live_update_step" }
func (s *liveUpdateStep) Freeze()              {}
func (s *liveUpdateStep) Truth() starlark.Bool { return true }
func (s *liveUpdateStep) Hash() (uint32, error) {
	return 0, fmt.Errorf("unhashable type: live_update_step")
}

type portForward struct {
	local, container int // container 0: not given
	host, name       string
}

func (p portForward) String() string {
	return fmt.Sprintf("port_forward(%d, %d)", p.local, p.container)
}
func (p portForward) Type() string          { return "PortForward" }
func (p portForward) Freeze()               {}
func (p portForward) Truth() starlark.Bool  { return true }
func (p portForward) Hash() (uint32, error) { return 0, fmt.Errorf("unhashable type: PortForward") }

// blob is Tilt's Blob: text that is content, not a path.
type blob struct{ text string }

func (b blob) String() string        { return b.text }
func (b blob) Type() string          { return "blob" }
func (b blob) Freeze()               {}
func (b blob) Truth() starlark.Bool  { return b.text != "" }
func (b blob) Hash() (uint32, error) { return starlark.String(b.text).Hash() }

type triggerMode string

func (t triggerMode) String() string        { return string(t) }
func (t triggerMode) Type() string          { return "TriggerMode" }
func (t triggerMode) Freeze()               {}
func (t triggerMode) Truth() starlark.Bool  { return true }
func (t triggerMode) Hash() (uint32, error) { return starlark.String(t).Hash() }

type link struct{ url, name string }

func (l link) String() string        { return "link(" + l.url + ")" }
func (l link) Type() string          { return "Link" }
func (l link) Freeze()               {}
func (l link) Truth() starlark.Bool  { return true }
func (l link) Hash() (uint32, error) { return starlark.String(l.url).Hash() }

type builtinFn func(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error)

func (c *checker) builtin(name string, f builtinFn) *starlark.Builtin {
	return starlark.NewBuiltin(name, func(thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		return f(c, thread, fn, args, kwargs)
	})
}

// pos is where in the Tiltfile the running builtin was called from.
func pos(thread *starlark.Thread) string {
	p := thread.CallFrame(1).Pos
	return fmt.Sprintf("%s:%d", filepath.Base(p.Filename()), p.Line)
}

// predeclared returns the Tiltfile's globals: the builtins below, and the os and config modules.
func (c *checker) predeclared() starlark.StringDict {
	environ := starlark.NewDict(len(c.env))
	keys := make([]string, 0, len(c.env))
	for k := range c.env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		_ = environ.SetKey(starlark.String(k), starlark.String(c.env[k]))
	}
	return starlark.StringDict{
		"docker_build":        c.builtin("docker_build", dockerBuild),
		"sync":                c.builtin("sync", syncStep),
		"run":                 c.builtin("run", runStep),
		"fall_back_on":        c.builtin("fall_back_on", fallBackOn),
		"initial_sync":        c.builtin("initial_sync", initialSync),
		"restart_container":   c.builtin("restart_container", restartContainer),
		"local_resource":      c.builtin("local_resource", localResourceFn),
		"k8s_yaml":            c.builtin("k8s_yaml", k8sYAML),
		"k8s_resource":        c.builtin("k8s_resource", k8sResourceFn),
		"helm":                c.builtin("helm", helm),
		"port_forward":        c.builtin("port_forward", portForwardFn),
		"link":                c.builtin("link", linkFn),
		"allow_k8s_contexts":  c.builtin("allow_k8s_contexts", allowK8sContexts),
		"k8s_context":         c.builtin("k8s_context", k8sContext),
		"k8s_namespace":       c.builtin("k8s_namespace", k8sNamespace),
		"version_settings":    c.builtin("version_settings", versionSettings),
		"update_settings":     c.builtin("update_settings", updateSettings),
		"watch_settings":      c.builtin("watch_settings", watchSettings),
		"watch_file":          c.builtin("watch_file", watchFile),
		"read_file":           c.builtin("read_file", readFile),
		"listdir":             c.builtin("listdir", listdir),
		"local":               c.builtin("local", localFn),
		"warn":                c.builtin("warn", warnFn),
		"fail":                c.builtin("fail", failFn),
		"blob":                c.builtin("blob", blobFn),
		"decode_yaml":         c.builtin("decode_yaml", decodeYAML),
		"decode_yaml_stream":  c.builtin("decode_yaml_stream", decodeYAMLStream),
		"encode_yaml":         c.builtin("encode_yaml", encodeYAML),
		"encode_yaml_stream":  c.builtin("encode_yaml_stream", encodeYAMLStream),
		"trigger_mode":        c.builtin("trigger_mode", trigger),
		"TRIGGER_MODE_AUTO":   triggerMode("TRIGGER_MODE_AUTO"),
		"TRIGGER_MODE_MANUAL": triggerMode("TRIGGER_MODE_MANUAL"),
		"struct":              starlark.NewBuiltin("struct", starlarkstruct.Make),
		"os": &starlarkstruct.Module{Name: "os", Members: starlark.StringDict{
			"name":    starlark.String("posix"),
			"environ": environ,
			"getenv":  c.builtin("getenv", getenv),
			"getcwd":  c.builtin("getcwd", getcwd),
			"path": &starlarkstruct.Module{Name: "path", Members: starlark.StringDict{
				"exists":   c.builtin("exists", pathExists),
				"join":     c.builtin("join", pathJoin),
				"abspath":  c.builtin("abspath", pathAbs),
				"basename": c.builtin("basename", pathBase),
				"dirname":  c.builtin("dirname", pathDir),
			}},
		}},
		"config": &starlarkstruct.Module{Name: "config", Members: starlark.StringDict{
			"define_string_list":      c.builtin("define_string_list", defineSetting("string_list")),
			"define_string":           c.builtin("define_string", defineSetting("string")),
			"define_bool":             c.builtin("define_bool", defineSetting("bool")),
			"parse":                   c.builtin("parse", parseConfig),
			"set_enabled_resources":   c.builtin("set_enabled_resources", setEnabledResources),
			"clear_enabled_resources": c.builtin("clear_enabled_resources", noArgs),
			"main_path":               starlark.String(filepath.Join(c.root, "Tiltfile")),
			"main_dir":                starlark.String(c.root),
			"tilt_subcommand":         starlark.String("up"),
		}},
	}
}

// load(): ext:// extensions are downloaded from GitHub by Tilt at `tilt up`; this checker does not, deliberately
// (and the repository's Tiltfile does not need them). Local Tiltfiles are not supported either.
func (c *checker) load(_ *starlark.Thread, module string) (starlark.StringDict, error) {
	if strings.HasPrefix(module, "ext://") {
		return nil, fmt.Errorf("load(%q): Tilt extensions are fetched from GitHub at `tilt up`; tiltfile-check does not fetch them", module)
	}
	return nil, fmt.Errorf("load(%q): loading other Tiltfiles is not supported by tiltfile-check", module)
}

// strings accepts what Tilt accepts for "str or list of str": None, a string, or a list/tuple of strings.
func toStrings(what string, v starlark.Value) ([]string, error) {
	switch v := v.(type) {
	case nil, starlark.NoneType:
		return nil, nil
	case starlark.String:
		return []string{string(v)}, nil
	case blob:
		return []string{v.text}, nil
	case starlark.Iterable:
		var out []string
		it := v.Iterate()
		defer it.Done()
		var x starlark.Value
		for it.Next(&x) {
			s, ok := x.(starlark.String)
			if !ok {
				return nil, fmt.Errorf("%s: want a string or a list of strings, found %s in it", what, x.Type())
			}
			out = append(out, string(s))
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s: want a string or a list of strings, got %s", what, v.Type())
}

func toStringMap(what string, v starlark.Value) (map[string]string, error) {
	if v == nil || v == starlark.None {
		return nil, nil
	}
	d, ok := v.(*starlark.Dict)
	if !ok {
		return nil, fmt.Errorf("%s: want a dict, got %s", what, v.Type())
	}
	out := map[string]string{}
	for _, item := range d.Items() {
		k, ok1 := item[0].(starlark.String)
		val, ok2 := item[1].(starlark.String)
		if !ok1 || !ok2 {
			return nil, fmt.Errorf("%s: want a dict of strings", what)
		}
		out[string(k)] = string(val)
	}
	return out, nil
}

func dockerBuild(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ref, dockerfile, target, network, platform string
	var context, buildArgs, dockerfileContents, liveUpdate, ignore, only, entrypoint, ssh, secret, extraTag,
		containerArgs, cacheFrom, extraHosts starlark.Value
	var matchInEnvVars, pull bool
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs,
		"ref", &ref, "context", &context, "build_args?", &buildArgs, "dockerfile?", &dockerfile,
		"dockerfile_contents?", &dockerfileContents, "live_update?", &liveUpdate, "match_in_env_vars?", &matchInEnvVars,
		"ignore?", &ignore, "only?", &only, "entrypoint?", &entrypoint, "target?", &target, "ssh?", &ssh,
		"network?", &network, "secret?", &secret, "extra_tag?", &extraTag, "container_args?", &containerArgs,
		"cache_from?", &cacheFrom, "pull?", &pull, "platform?", &platform, "extra_hosts?", &extraHosts,
	); err != nil {
		return nil, err
	}
	ctx, ok := context.(starlark.String)
	if !ok {
		return nil, fmt.Errorf("%s: context must be a string, got %s", fn.Name(), context.Type())
	}
	if dockerfileContents != nil && dockerfile != "" {
		return nil, fmt.Errorf("%s: cannot specify both dockerfile and dockerfile_contents", fn.Name())
	}
	img := &image{pos: pos(thread), ref: ref, context: string(ctx), dockerfile: dockerfile, target: target}
	if img.dockerfile == "" && dockerfileContents == nil {
		img.dockerfile = filepath.Join(img.context, "Dockerfile")
	}
	var err error
	if img.only, err = toStrings("only", only); err != nil {
		return nil, err
	}
	if img.ignore, err = toStrings("ignore", ignore); err != nil {
		return nil, err
	}
	if img.buildArgs, err = toStringMap("build_args", buildArgs); err != nil {
		return nil, err
	}
	for _, v := range []struct {
		name string
		v    starlark.Value
	}{{"entrypoint", entrypoint}, {"container_args", containerArgs}, {"ssh", ssh}, {"secret", secret},
		{"extra_tag", extraTag}, {"cache_from", cacheFrom}, {"extra_hosts", extraHosts}} {
		if _, err := toStrings(v.name, v.v); err != nil {
			return nil, err
		}
	}
	if liveUpdate != nil && liveUpdate != starlark.None {
		list, ok := liveUpdate.(*starlark.List)
		if !ok {
			return nil, fmt.Errorf("%s: live_update must be a list of steps, got %s", fn.Name(), liveUpdate.Type())
		}
		for i := 0; i < list.Len(); i++ {
			step, ok := list.Index(i).(*liveUpdateStep)
			if !ok {
				return nil, fmt.Errorf("%s: live_update[%d] is a %s, not a live update step", fn.Name(), i, list.Index(i).Type())
			}
			img.steps = append(img.steps, step)
		}
	}
	for _, other := range c.images {
		if other.ref == ref {
			return nil, fmt.Errorf("%s: image %q is already built by the docker_build at %s", fn.Name(), ref, other.pos)
		}
	}
	c.images = append(c.images, img)
	return starlark.None, nil
}

func syncStep(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var local, remote string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "local_path", &local, "remote_path", &remote); err != nil {
		return nil, err
	}
	if !strings.HasPrefix(remote, "/") {
		return nil, fmt.Errorf("%s: remote_path %q must be absolute", fn.Name(), remote)
	}
	return &liveUpdateStep{pos: pos(thread), kind: "sync", src: local, dest: remote}, nil
}

func runStep(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var cmd, trigger starlark.Value
	var echoOff bool
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "cmd", &cmd, "trigger?", &trigger, "echo_off?", &echoOff); err != nil {
		return nil, err
	}
	parts, err := toStrings("cmd", cmd)
	if err != nil {
		return nil, err
	}
	triggers, err := toStrings("trigger", trigger)
	if err != nil {
		return nil, err
	}
	return &liveUpdateStep{pos: pos(thread), kind: "run", cmd: strings.Join(parts, " "), paths: triggers, echoOff: echoOff}, nil
}

func fallBackOn(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var files starlark.Value
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "files", &files); err != nil {
		return nil, err
	}
	paths, err := toStrings("files", files)
	if err != nil {
		return nil, err
	}
	return &liveUpdateStep{pos: pos(thread), kind: "fall_back_on", paths: paths}, nil
}

func initialSync(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	return &liveUpdateStep{pos: pos(thread), kind: "initial_sync"}, nil
}

func restartContainer(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	return &liveUpdateStep{pos: pos(thread), kind: "restart_container"}, nil
}

func localResourceFn(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var name, dir, serveDir string
	var cmd, deps, triggerModeV, resourceDeps, ignore, serveCmd, cmdBat, serveCmdBat, links, labels, env, serveEnv,
		readinessProbe starlark.Value
	autoInit, allowParallel := true, false
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs,
		"name", &name, "cmd?", &cmd, "deps?", &deps, "trigger_mode?", &triggerModeV, "resource_deps?", &resourceDeps,
		"ignore?", &ignore, "auto_init?", &autoInit, "serve_cmd?", &serveCmd, "cmd_bat?", &cmdBat,
		"serve_cmd_bat?", &serveCmdBat, "allow_parallel?", &allowParallel, "links?", &links, "labels?", &labels,
		"env?", &env, "serve_env?", &serveEnv, "readiness_probe?", &readinessProbe, "dir?", &dir, "serve_dir?", &serveDir,
	); err != nil {
		return nil, err
	}
	r := &localResource{pos: pos(thread), name: name}
	var err error
	if r.deps, err = toStrings("deps", deps); err != nil {
		return nil, err
	}
	if r.resourceDeps, err = toStrings("resource_deps", resourceDeps); err != nil {
		return nil, err
	}
	if r.labels, err = toStrings("labels", labels); err != nil {
		return nil, err
	}
	for _, other := range c.locals {
		if other.name == name {
			return nil, fmt.Errorf("%s: local_resource %q is already defined at %s", fn.Name(), name, other.pos)
		}
	}
	c.locals = append(c.locals, r)
	return starlark.None, nil
}

func k8sYAML(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var yamlV starlark.Value
	var allowDuplicates bool
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "yaml", &yamlV, "allow_duplicates?", &allowDuplicates); err != nil {
		return nil, err
	}
	var texts []string
	switch v := yamlV.(type) {
	case blob:
		texts = append(texts, v.text)
	default:
		paths, err := toStrings("yaml", yamlV)
		if err != nil {
			return nil, err
		}
		for _, p := range paths {
			data, err := c.fs.read(c.rel(p))
			if err != nil {
				return nil, fmt.Errorf("%s: %v", fn.Name(), err)
			}
			texts = append(texts, string(data))
		}
	}
	for _, text := range texts {
		objects, err := parseObjects(text)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", fn.Name(), err)
		}
		if len(objects) == 0 {
			return nil, fmt.Errorf("%s: no Kubernetes objects in the YAML", fn.Name())
		}
		where := pos(thread)
		for _, o := range objects {
			// Tilt stops at an object given twice (same group, kind, namespace and name) unless allow_duplicates.
			key := o.id()
			if first, dup := c.objectsAt[key]; dup && !allowDuplicates {
				if first == where {
					first = "the same call"
				}
				c.problem("%s: k8s_yaml: %s is deployed twice (first by %s): Tilt stops with an error (allow_duplicates=False)", where, key, first)
				continue
			} else if !dup {
				c.objectsAt[key] = where
			}
			c.objects = append(c.objects, o)
		}
	}
	return starlark.None, nil
}

func k8sResourceFn(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var workload, newName, podReadiness, discoveryStrategy string
	var portForwards, extraPodSelectors, triggerModeV, resourceDeps, objects, links, labels starlark.Value
	autoInit := true
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs,
		"workload?", &workload, "new_name?", &newName, "port_forwards?", &portForwards,
		"extra_pod_selectors?", &extraPodSelectors, "trigger_mode?", &triggerModeV, "resource_deps?", &resourceDeps,
		"objects?", &objects, "auto_init?", &autoInit, "pod_readiness?", &podReadiness, "links?", &links,
		"labels?", &labels, "discovery_strategy?", &discoveryStrategy,
	); err != nil {
		return nil, err
	}
	r := &k8sResource{pos: pos(thread), workload: workload, newName: newName}
	if workload == "" && newName == "" {
		return nil, fmt.Errorf("%s: give the workload to configure, or objects and a new_name", fn.Name())
	}
	var err error
	if r.resourceDeps, err = toStrings("resource_deps", resourceDeps); err != nil {
		return nil, err
	}
	if r.objects, err = toStrings("objects", objects); err != nil {
		return nil, err
	}
	if r.labels, err = toStrings("labels", labels); err != nil {
		return nil, err
	}
	if r.portForwards, err = parsePortForwards(portForwards); err != nil {
		return nil, fmt.Errorf("%s: port_forwards: %v", fn.Name(), err)
	}
	c.k8sResources = append(c.k8sResources, r)
	return starlark.None, nil
}

// parsePortForwards reads Tilt's port_forwards: an int, a string 'LOCAL', 'LOCAL:CONTAINER' or
// 'HOST:LOCAL:CONTAINER', a port_forward(), or a list of those.
func parsePortForwards(v starlark.Value) ([]portForward, error) {
	var items []starlark.Value
	switch v := v.(type) {
	case nil, starlark.NoneType:
		return nil, nil
	case *starlark.List:
		for i := 0; i < v.Len(); i++ {
			items = append(items, v.Index(i))
		}
	case starlark.Tuple:
		items = v
	default:
		items = []starlark.Value{v}
	}
	var out []portForward
	for _, item := range items {
		switch item := item.(type) {
		case portForward:
			out = append(out, item)
		case starlark.Int:
			n, ok := item.Int64()
			if !ok {
				return nil, fmt.Errorf("port %v out of range", item)
			}
			out = append(out, portForward{local: int(n)})
		case starlark.String:
			parts := strings.Split(string(item), ":")
			nums := make([]int, 0, 2)
			host := ""
			if len(parts) == 3 {
				host, parts = parts[0], parts[1:]
			}
			if len(parts) > 2 {
				return nil, fmt.Errorf("%q: want LOCAL, LOCAL:CONTAINER or HOST:LOCAL:CONTAINER", string(item))
			}
			for _, p := range parts {
				var n int
				if _, err := fmt.Sscanf(p, "%d", &n); err != nil || fmt.Sprint(n) != p {
					return nil, fmt.Errorf("%q: %q is not a port number", string(item), p)
				}
				nums = append(nums, n)
			}
			pf := portForward{local: nums[0], host: host}
			if len(nums) == 2 {
				pf.container = nums[1]
			}
			out = append(out, pf)
		default:
			return nil, fmt.Errorf("want an int, a string or a port_forward(), got %s", item.Type())
		}
	}
	for _, pf := range out {
		for _, p := range []int{pf.local, pf.container} {
			if p < 0 || p > 65535 || (p == 0 && p == pf.local) {
				return nil, fmt.Errorf("port %d out of range", p)
			}
		}
	}
	return out, nil
}

func portForwardFn(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var local int
	var container starlark.Value
	var name, linkPath, host string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "local_port", &local, "container_port?", &container,
		"name?", &name, "link_path?", &linkPath, "host?", &host); err != nil {
		return nil, err
	}
	pf := portForward{local: local, name: name, host: host}
	if container != nil && container != starlark.None {
		n, err := starlark.AsInt32(container)
		if err != nil {
			return nil, fmt.Errorf("%s: container_port: %v", fn.Name(), err)
		}
		pf.container = n
	}
	return pf, nil
}

func linkFn(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var url, name string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "url", &url, "name?", &name); err != nil {
		return nil, err
	}
	return link{url: url, name: name}, nil
}

// helm renders nothing: it returns the rendering the checker was given (`helm template` of the same chart) and
// checks that the chart and values files it names exist. The rendering may hold several charts (the Tiltfile calls
// helm() once per chart): helm marks each document with `# Source: <chart name>/templates/...`, and helm() returns
// the documents of its own chart (named in its Chart.yaml, as helm does; the folder name if that cannot be read).
// A rendering without any marks stands for one chart and is returned whole, to the first helm() call only: a second
// call could not tell its documents apart and would deploy every object twice.
func helm(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var chart, name, namespace, kubeVersion string
	var values, set starlark.Value
	var skipCRDs bool
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "pathToChartDir", &chart, "name?", &name,
		"namespace?", &namespace, "values?", &values, "set?", &set, "kube_version?", &kubeVersion,
		"skip_crds?", &skipCRDs); err != nil {
		return nil, err
	}
	call := &helmCall{pos: pos(thread), chart: chart, name: name, namespace: namespace}
	var err error
	if call.values, err = toStrings("values", values); err != nil {
		return nil, err
	}
	if _, err := toStrings("set", set); err != nil {
		return nil, err
	}
	c.helmCalls = append(c.helmCalls, call)
	if c.rendered == "" {
		return nil, fmt.Errorf("%s: no rendering of %s to stand in for `helm template` (-rendered)", fn.Name(), chart)
	}
	call.chartName = c.chartName(chart)
	docs, charts := documentsOf(c.rendered, call.chartName)
	where := call.pos + ": helm(" + chart + ")"
	switch {
	case len(charts) == 0:
		if len(c.helmCalls) > 1 {
			c.problem("%s: the rendering (-rendered) has no `# Source:` marks, so the documents of this chart cannot be told from those of %s's chart: render each chart with `helm template` (which marks them) into it", where, c.helmCalls[0].pos)
			break
		}
		call.rendered = c.rendered
	case docs == "":
		if c.fs.exists(c.rel(chart) + "/Chart.yaml") { // a missing chart is reported by checkHelm
			c.problem("%s: the rendering (-rendered) has no documents of chart %q (it holds: %s): render that chart into it as the Tiltfile deploys it", where, call.chartName, strings.Join(charts, ", "))
		}
	default:
		call.rendered = docs
	}
	return blob{text: call.rendered}, nil
}

// chartName is the name helm gives a chart's documents: Chart.yaml's name, else the folder's.
func (c *checker) chartName(chart string) string {
	if data, err := c.fs.read(c.rel(chart) + "/Chart.yaml"); err == nil {
		var meta struct{ Name string }
		if yaml.Unmarshal(data, &meta) == nil && meta.Name != "" {
			return meta.Name
		}
	}
	return path.Base(c.rel(chart))
}

// documentsOf splits a `helm template` rendering (one or more charts, `---` between documents) by the chart each
// document's `# Source: <chart>/...` mark names. It returns the documents of chartName, joined again, and the
// charts that have marks, sorted; none when the rendering has no marks.
func documentsOf(rendered, chartName string) (string, []string) {
	var docs [][]string
	cur := []string{}
	for _, line := range strings.Split(rendered, "\n") {
		if strings.TrimRight(line, " \t\r") == "---" {
			docs = append(docs, cur)
			cur = []string{}
			continue
		}
		cur = append(cur, line)
	}
	docs = append(docs, cur)
	charts := map[string]bool{}
	var kept []string
	for _, doc := range docs {
		for _, line := range doc {
			src, ok := strings.CutPrefix(line, "# Source: ")
			if !ok {
				continue
			}
			name, _, _ := strings.Cut(strings.TrimSpace(src), "/")
			charts[name] = true
			if name == chartName {
				kept = append(kept, strings.Join(doc, "\n"))
			}
			break
		}
	}
	if len(kept) == 0 {
		return "", keys(charts)
	}
	return "---\n" + strings.Join(kept, "\n---\n") + "\n", keys(charts)
}

func allowK8sContexts(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var contexts starlark.Value
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "contexts", &contexts); err != nil {
		return nil, err
	}
	_, err := toStrings("contexts", contexts)
	return starlark.None, err
}

func k8sContext(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return starlark.String("kind-flash-sale"), starlark.UnpackArgs(fn.Name(), args, kwargs)
}

func k8sNamespace(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return starlark.String("default"), starlark.UnpackArgs(fn.Name(), args, kwargs)
}

func versionSettings(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	checkUpdates := true
	var constraint string
	return starlark.None, starlark.UnpackArgs(fn.Name(), args, kwargs, "check_updates?", &checkUpdates, "constraint?", &constraint)
}

func updateSettings(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	maxParallel, upsertTimeout := 3, 30
	var suppress starlark.Value
	serverSideApply := "auto"
	return starlark.None, starlark.UnpackArgs(fn.Name(), args, kwargs, "max_parallel_updates?", &maxParallel,
		"k8s_upsert_timeout_secs?", &upsertTimeout, "suppress_unused_image_warnings?", &suppress,
		"k8s_server_side_apply?", &serverSideApply)
}

func watchSettings(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var ignore starlark.Value
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "ignore", &ignore); err != nil {
		return nil, err
	}
	_, err := toStrings("ignore", ignore)
	return starlark.None, err
}

func watchFile(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "file_path", &path); err != nil {
		return nil, err
	}
	c.requirePath(pos(thread), "watch_file", path)
	return starlark.None, nil
}

func readFile(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	var def starlark.Value
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "file_path", &path, "default?", &def); err != nil {
		return nil, err
	}
	data, err := c.fs.read(c.rel(path))
	if err != nil {
		if def != nil && def != starlark.None {
			if s, ok := starlark.AsString(def); ok {
				return blob{text: s}, nil
			}
			return def, nil
		}
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	return blob{text: string(data)}, nil
}

// local() would run a command on this machine at every Tiltfile load; the checker runs nothing.
func localFn(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return nil, fmt.Errorf("%s: tiltfile-check does not run commands; the Tiltfile should not need to at load time", fn.Name())
}

func warnFn(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var msg string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "msg", &msg); err != nil {
		return nil, err
	}
	c.warnings = append(c.warnings, pos(thread)+": "+msg)
	return starlark.None, nil
}

func failFn(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var msg string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "msg", &msg); err != nil {
		return nil, err
	}
	return nil, fmt.Errorf("fail: %s", msg)
}

func blobFn(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var contents string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "contents", &contents); err != nil {
		return nil, err
	}
	return blob{text: contents}, nil
}

func textArg(fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple, name string) (string, error) {
	var v starlark.Value
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, name, &v); err != nil {
		return "", err
	}
	switch v := v.(type) {
	case starlark.String:
		return string(v), nil
	case blob:
		return v.text, nil
	}
	return "", fmt.Errorf("%s: want a string or a blob, got %s", fn.Name(), v.Type())
}

func decodeYAML(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	text, err := textArg(fn, args, kwargs, "yaml")
	if err != nil {
		return nil, err
	}
	docs, err := yamlToStarlark(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	if len(docs) != 1 {
		return nil, fmt.Errorf("%s: want one YAML document, found %d", fn.Name(), len(docs))
	}
	return docs[0], nil
}

func decodeYAMLStream(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	text, err := textArg(fn, args, kwargs, "yaml")
	if err != nil {
		return nil, err
	}
	docs, err := yamlToStarlark(text)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	return starlark.NewList(docs), nil
}

func encodeYAML(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var obj starlark.Value
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "obj", &obj); err != nil {
		return nil, err
	}
	text, err := starlarkToYAML([]starlark.Value{obj})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	return blob{text: text}, nil
}

func encodeYAMLStream(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var objs *starlark.List
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "objs", &objs); err != nil {
		return nil, err
	}
	values := make([]starlark.Value, objs.Len())
	for i := range values {
		values[i] = objs.Index(i)
	}
	text, err := starlarkToYAML(values)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", fn.Name(), err)
	}
	return blob{text: text}, nil
}

func trigger(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var mode starlark.Value
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "trigger_mode", &mode); err != nil {
		return nil, err
	}
	if _, ok := mode.(triggerMode); !ok {
		return nil, fmt.Errorf("%s: want TRIGGER_MODE_AUTO or TRIGGER_MODE_MANUAL, got %s", fn.Name(), mode.Type())
	}
	return starlark.None, nil
}

func getenv(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var key string
	var def starlark.Value = starlark.None
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "key", &key, "default?", &def); err != nil {
		return nil, err
	}
	if v, ok := c.env[key]; ok {
		return starlark.String(v), nil
	}
	return def, nil
}

func getcwd(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return starlark.String(c.root), starlark.UnpackArgs(fn.Name(), args, kwargs)
}

func pathExists(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	return starlark.Bool(c.fs.exists(c.rel(path))), nil
}

func pathJoin(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if len(kwargs) > 0 {
		return nil, fmt.Errorf("%s: unexpected keyword arguments", fn.Name())
	}
	parts, err := toStrings("paths", args)
	if err != nil || len(parts) == 0 {
		return nil, fmt.Errorf("%s: want one or more strings", fn.Name())
	}
	return starlark.String(filepath.Join(parts...)), nil
}

func pathAbs(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	if filepath.IsAbs(path) {
		return starlark.String(filepath.Clean(path)), nil
	}
	return starlark.String(filepath.Join(c.root, path)), nil
}

func pathBase(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	return starlark.String(filepath.Base(path)), nil
}

func pathDir(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var path string
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "path", &path); err != nil {
		return nil, err
	}
	return starlark.String(filepath.Dir(path)), nil
}

func defineSetting(kind string) builtinFn {
	return func(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
		var name, usage string
		var positional bool
		if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "name", &name, "args?", &positional, "usage?", &usage); err != nil {
			return nil, err
		}
		if c.configParsed {
			return nil, fmt.Errorf("%s(%q): settings must be defined before config.parse()", fn.Name(), name)
		}
		if _, dup := c.settingKinds[name]; dup {
			return nil, fmt.Errorf("%s: setting %q is already defined", fn.Name(), name)
		}
		c.settingKinds[name] = kind
		return starlark.None, nil
	}
}

// parseConfig returns the settings given to the checker (none unless a test sets some), as Tilt returns those given
// on the command line or in tilt_config.json: a setting that was not given is absent from the dict.
func parseConfig(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs); err != nil {
		return nil, err
	}
	c.configParsed = true
	d := starlark.NewDict(len(c.settings))
	for k, v := range c.settings {
		kind, ok := c.settingKinds[k]
		if !ok {
			return nil, fmt.Errorf("%s: setting %q was given but the Tiltfile does not define it", fn.Name(), k)
		}
		if _, isList := v.(*starlark.List); isList != (kind == "string_list") {
			return nil, fmt.Errorf("%s: setting %q has the wrong type for a %s", fn.Name(), k, kind)
		}
		_ = d.SetKey(starlark.String(k), v)
	}
	return d, nil
}

func setEnabledResources(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var resources starlark.Value
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "resources", &resources); err != nil {
		return nil, err
	}
	names, err := toStrings("resources", resources)
	c.enabledResources = append(c.enabledResources, names...)
	return starlark.None, err
}

func noArgs(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	return starlark.None, starlark.UnpackArgs(fn.Name(), args, kwargs)
}

// listdir returns the files (not directories) of a directory, as absolute paths, as Tilt does.
func listdir(c *checker, thread *starlark.Thread, fn *starlark.Builtin, args starlark.Tuple, kwargs []starlark.Tuple) (starlark.Value, error) {
	var dir string
	var recursive bool
	if err := starlark.UnpackArgs(fn.Name(), args, kwargs, "directory", &dir, "recursive?", &recursive); err != nil {
		return nil, err
	}
	rel := c.rel(dir)
	if !c.fs.isDir(rel) {
		return nil, fmt.Errorf("%s: %s is not a directory", fn.Name(), dir)
	}
	files := c.fs.files(rel, recursive)
	out := make([]starlark.Value, len(files))
	for i, f := range files {
		out[i] = starlark.String(filepath.Join(c.root, filepath.FromSlash(f)))
	}
	return starlark.NewList(out), nil
}
