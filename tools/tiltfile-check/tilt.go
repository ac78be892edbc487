package main

// Stand-ins for the Tilt builtins the Tiltfile calls. Each takes Tilt's own parameter names
// (https://docs.tilt.dev/api.html), so an unknown keyword or a missing argument fails here as it does in Tilt, and
// records its arguments instead of acting; check.go holds the records against the repository and the charts.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	starlarkjson "go.starlark.net/lib/json"
	"go.starlark.net/starlark"
	"go.starlark.net/starlarkstruct"
	"go.starlark.net/syntax"
	"go.yaml.in/yaml/v3"
)

type args map[string]starlark.Value

// call is one recorded builtin call: where in the Tiltfile, and its arguments by name.
type call struct {
	fn, pos string
	args    args
}

type checker struct {
	render   func(helmArgs []string) (string, error) // `helm template`, as Tilt's helm() runs it
	calls    []call
	objects  []map[string]any // what k8s_yaml was given
	problems []string
}

func (c *checker) problem(format string, a ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, a...))
}

// stub makes a builtin with Tilt's parameters ("?" marks an optional one) that records each call and returns what
// do makes of the arguments (None without do).
func (c *checker) stub(name, params string, do func(a args) (starlark.Value, error)) *starlark.Builtin {
	names := strings.Fields(params)
	return starlark.NewBuiltin(name, func(th *starlark.Thread, _ *starlark.Builtin, pos starlark.Tuple, kw []starlark.Tuple) (starlark.Value, error) {
		vals := make([]starlark.Value, len(names))
		pairs := make([]any, 0, 2*len(names))
		for i, n := range names {
			pairs = append(pairs, n, &vals[i])
		}
		if err := starlark.UnpackArgs(name, pos, kw, pairs...); err != nil {
			return nil, err
		}
		a := args{}
		for i, n := range names {
			if vals[i] != nil {
				a[strings.TrimSuffix(n, "?")] = vals[i]
			}
		}
		p := th.CallFrame(1).Pos
		c.calls = append(c.calls, call{fn: name, pos: fmt.Sprintf("%s:%d", p.Filename(), p.Line), args: a})
		if do == nil {
			return starlark.None, nil
		}
		return do(a)
	})
}

func (c *checker) builtins() starlark.StringDict {
	s := c.stub
	value := func(name, params string, f func(a args) starlark.Value) *starlark.Builtin {
		return s(name, params, func(a args) (starlark.Value, error) { return f(a), nil })
	}
	module := func(name string, members starlark.StringDict) *starlarkstruct.Module {
		return &starlarkstruct.Module{Name: name, Members: members}
	}
	return starlark.StringDict{
		"version_settings":   s("version_settings", "check_updates? constraint?", nil),
		"allow_k8s_contexts": s("allow_k8s_contexts", "contexts", nil),
		"listdir":            s("listdir", "directory recursive?", listdir),
		"docker_build": s("docker_build", "ref context build_args? dockerfile? dockerfile_contents? live_update? "+
			"match_in_env_vars? ignore? only? entrypoint? target? ssh? network? secret? extra_tag? container_args? "+
			"cache_from? pull? platform? extra_hosts?", nil),
		// Live Update steps: checked as calls of their own, so what they return does not matter.
		"sync":         s("sync", "local_path remote_path", nil),
		"run":          s("run", "cmd trigger? echo_off?", nil),
		"fall_back_on": s("fall_back_on", "files", nil),
		"local_resource": s("local_resource", "name cmd? deps? trigger_mode? resource_deps? ignore? auto_init? "+
			"serve_cmd? cmd_bat? serve_cmd_bat? allow_parallel? links? labels? env? serve_env? readiness_probe? dir? "+
			"serve_dir?", nil),
		"helm":               s("helm", "pathToChartDir name? namespace? values? set? kube_version? skip_crds?", c.helm),
		"decode_yaml_stream": s("decode_yaml_stream", "yaml", decodeYAMLStream),
		"encode_yaml_stream": s("encode_yaml_stream", "objs", encodeYAMLStream),
		"k8s_yaml":           s("k8s_yaml", "yaml allow_duplicates?", c.k8sYAML),
		"k8s_resource": s("k8s_resource", "workload? new_name? port_forwards? extra_pod_selectors? trigger_mode? "+
			"resource_deps? objects? auto_init? pod_readiness? links? labels? discovery_strategy?", nil),
		// The 'LOCAL:CONTAINER' string k8s_resource also accepts.
		"port_forward": value("port_forward", "local_port container_port? name? link_path? host?", func(a args) starlark.Value {
			if p := a["container_port"]; p != nil && p != starlark.None {
				return starlark.String(a["local_port"].String() + ":" + p.String())
			}
			return a["local_port"]
		}),
		"config": module("config", starlark.StringDict{
			"define_string_list": s("config.define_string_list", "name args? usage?", nil),
			// No settings given, as with a plain `tilt up`.
			"parse":                 value("config.parse", "", func(args) starlark.Value { return starlark.NewDict(0) }),
			"set_enabled_resources": s("config.set_enabled_resources", "resources", nil),
		}),
		"os": module("os", starlark.StringDict{
			"getenv": value("os.getenv", "key default?", func(a args) starlark.Value {
				if v, ok := os.LookupEnv(str(a["key"])); ok {
					return starlark.String(v)
				} else if a["default"] != nil {
					return a["default"]
				}
				return starlark.None
			}),
			"path": module("path", starlark.StringDict{
				"exists": value("os.path.exists", "path", func(a args) starlark.Value {
					_, err := os.Stat(str(a["path"]))
					return starlark.Bool(err == nil)
				}),
				"basename": value("os.path.basename", "path", func(a args) starlark.Value {
					return starlark.String(filepath.Base(str(a["path"])))
				}),
			}),
		}),
	}
}

// load executes the Tiltfile, in the dialect Tilt uses. Its paths are relative to the working directory, which main
// sets to the Tiltfile's folder, as Tilt does.
func (c *checker) load(name string, src []byte) error {
	thread := &starlark.Thread{Name: "Tiltfile", Load: func(_ *starlark.Thread, m string) (starlark.StringDict, error) {
		// Tilt fetches ext:// extensions from GitHub at `tilt up`; nothing is fetched here.
		return nil, fmt.Errorf("load(%q): not available to this check", m)
	}}
	opts := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
	_, err := starlark.ExecFileOptions(opts, thread, name, src, c.builtins())
	if e, ok := err.(*starlark.EvalError); ok {
		return errors.New(e.Backtrace())
	}
	return err
}

// listdir returns the directory's files as absolute paths, as Tilt does.
func listdir(a args) (starlark.Value, error) {
	dir, _ := filepath.Abs(str(a["directory"]))
	entries, err := os.ReadDir(dir)
	var out []starlark.Value
	for _, e := range entries {
		if !e.IsDir() {
			out = append(out, starlark.String(filepath.Join(dir, e.Name())))
		}
	}
	return starlark.NewList(out), err
}

// helm renders the chart with the arguments the Tiltfile gives, as Tilt's helm() does.
func (c *checker) helm(a args) (starlark.Value, error) {
	chart, name := str(a["pathToChartDir"]), str(a["name"])
	if _, err := os.Stat(filepath.Join(chart, "Chart.yaml")); err != nil {
		return nil, fmt.Errorf("chart %s/Chart.yaml does not exist", chart)
	}
	if name == "" {
		name = filepath.Base(chart)
	}
	cmd := []string{"template", name, chart}
	for i, v := range []starlark.Value{a["namespace"], a["values"], a["set"]} {
		for _, x := range strs(v) {
			cmd = append(cmd, []string{"--namespace", "--values", "--set"}[i], x)
		}
	}
	out, err := c.render(cmd)
	if err != nil {
		return nil, fmt.Errorf("helm %s: %v", strings.Join(cmd, " "), err)
	}
	return starlark.String(out), nil
}

// YAML crosses into Starlark as JSON, through Starlark's own json module; JSON is YAML on the way back.
func decodeYAMLStream(a args) (starlark.Value, error) {
	docs, err := yamlDocs[any](str(a["yaml"]))
	if err != nil {
		return nil, err
	}
	data, err := json.Marshal(docs)
	if err != nil {
		return nil, err
	}
	return starlark.Call(&starlark.Thread{}, starlarkjson.Module.Members["decode"], starlark.Tuple{starlark.String(data)}, nil)
}

func encodeYAMLStream(a args) (starlark.Value, error) {
	var docs []string
	for _, o := range items(a["objs"]) {
		doc, err := starlark.Call(&starlark.Thread{}, starlarkjson.Module.Members["encode"], starlark.Tuple{o}, nil)
		if err != nil {
			return nil, err
		}
		docs = append(docs, str(doc))
	}
	return starlark.String(strings.Join(docs, "\n---\n")), nil
}

func (c *checker) k8sYAML(a args) (starlark.Value, error) {
	objects, err := yamlDocs[map[string]any](str(a["yaml"]))
	c.objects = append(c.objects, objects...)
	return starlark.None, err
}

func yamlDocs[T any](text string) ([]T, error) {
	dec := yaml.NewDecoder(strings.NewReader(text))
	var docs []T
	for {
		var d T
		if err := dec.Decode(&d); errors.Is(err, io.EOF) {
			return docs, nil
		} else if err != nil {
			return nil, err
		}
		docs = append(docs, d)
	}
}

func str(v starlark.Value) string {
	s, _ := starlark.AsString(v)
	return s
}

// items reads Tilt's "a value or a list of them", strs "a string or a list of strings".
func items(v starlark.Value) []starlark.Value {
	if it, ok := v.(starlark.Iterable); ok {
		return slices.Collect(starlark.Elements(it))
	} else if v == nil || v == starlark.None {
		return nil
	}
	return []starlark.Value{v}
}

func strs(v starlark.Value) []string {
	var out []string
	for _, x := range items(v) {
		out = append(out, str(x))
	}
	return out
}
