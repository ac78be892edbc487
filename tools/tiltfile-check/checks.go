package main

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
	"go.starlark.net/starlark"
	"go.starlark.net/syntax"
)

type options struct {
	tiltfile string // the Tiltfile to execute
	source   []byte // its text, instead of reading tiltfile (tests)
	root     string // the directory paths in the Tiltfile are relative to: the Tiltfile's own, as in Tilt
	overlays []string
	rendered string // file holding the rendered chart, or
	yaml     string // the rendering itself (tests)
	env      map[string]string
	settings map[string]starlark.Value // config.parse() result (tests)
}

// repoFS looks a repository-relative path up in each layer in turn: the overlays (tests' fixtures), then the root.
type repoFS struct{ layers []string }

func (f repoFS) find(rel string) (string, bool) {
	for _, l := range f.layers {
		p := filepath.Join(l, filepath.FromSlash(rel))
		if _, err := os.Stat(p); err == nil {
			return p, true
		}
	}
	return "", false
}

func (f repoFS) exists(rel string) bool { _, ok := f.find(rel); return ok }

func (f repoFS) isDir(rel string) bool {
	p, ok := f.find(rel)
	if !ok {
		return false
	}
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func (f repoFS) read(rel string) ([]byte, error) {
	p, ok := f.find(rel)
	if !ok {
		return nil, fmt.Errorf("%s does not exist", rel)
	}
	return os.ReadFile(p)
}

// files lists the files under a directory, in any layer (repository-relative, sorted).
func (f repoFS) files(dir string, recursive bool) []string {
	seen := map[string]bool{}
	for _, l := range f.layers {
		base := filepath.Join(l, filepath.FromSlash(dir))
		_ = filepath.WalkDir(base, func(p string, d os.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			if d.IsDir() {
				if p != base && !recursive {
					return filepath.SkipDir
				}
				return nil
			}
			if rel, err := filepath.Rel(l, p); err == nil {
				seen[filepath.ToSlash(rel)] = true
			}
			return nil
		})
	}
	return keys(seen)
}

// glob returns the repository-relative paths matching a pattern, in any layer.
func (f repoFS) glob(pattern string) []string {
	seen := map[string]bool{}
	var out []string
	for _, l := range f.layers {
		matches, _ := filepath.Glob(filepath.Join(l, filepath.FromSlash(pattern)))
		for _, m := range matches {
			rel, err := filepath.Rel(l, m)
			if err == nil && !seen[rel] {
				seen[rel] = true
				out = append(out, filepath.ToSlash(rel))
			}
		}
	}
	sort.Strings(out)
	return out
}

type checker struct {
	fs       repoFS
	root     string
	rendered string
	env      map[string]string
	settings map[string]starlark.Value

	settingKinds     map[string]string
	configParsed     bool
	enabledResources []string

	images       []*image
	locals       []*localResource
	k8sResources []*k8sResource
	helmCalls    []*helmCall
	objects      []k8sObject
	objectsAt    map[string]string // object id -> where k8s_yaml first got it
	warnings     []string
	problems     []string
}

func (c *checker) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// rel turns a Tiltfile path into a clean repository-relative one ("" stays ""; "." is the root).
func (c *checker) rel(p string) string {
	if filepath.IsAbs(p) {
		if r, err := filepath.Rel(c.root, p); err == nil {
			p = r
		}
	}
	return path.Clean(filepath.ToSlash(p))
}

func escapes(rel string) bool { return rel == ".." || strings.HasPrefix(rel, "../") || path.IsAbs(rel) }

// requirePath reports a path that is missing or outside the repository.
func (c *checker) requirePath(where, what, p string) bool {
	rel := c.rel(p)
	if escapes(rel) {
		c.problem("%s: %s %q is outside the repository", where, what, p)
		return false
	}
	if !c.fs.exists(rel) {
		c.problem("%s: %s %q does not exist", where, what, p)
		return false
	}
	return true
}

// under: p is base or inside it (both clean, repository-relative).
func under(p, base string) bool {
	return base == "." || p == base || strings.HasPrefix(p, base+"/")
}

func check(o options) (*checker, error) {
	src := o.source
	if src == nil {
		var err error
		if src, err = os.ReadFile(o.tiltfile); err != nil {
			return nil, err
		}
	}
	text := o.yaml
	if text == "" && o.rendered != "" {
		data, err := os.ReadFile(o.rendered)
		if err != nil {
			return nil, err
		}
		text = string(data)
	}
	c := &checker{
		fs:       repoFS{layers: append(append([]string{}, o.overlays...), o.root)},
		root:     o.root,
		rendered: text,
		env:      o.env,
		settings: o.settings,

		settingKinds: map[string]string{},
		objectsAt:    map[string]string{},
	}
	thread := &starlark.Thread{Name: "Tiltfile", Load: c.load, Print: func(_ *starlark.Thread, msg string) {}}
	// The dialect Tilt runs: top-level if/for, while, sets, recursion, reassigned globals.
	fileOptions := &syntax.FileOptions{Set: true, While: true, TopLevelControl: true, GlobalReassign: true, Recursion: true}
	name := filepath.Base(o.tiltfile)
	if _, err := starlark.ExecFileOptions(fileOptions, thread, name, src, c.predeclared()); err != nil {
		if evalErr, ok := err.(*starlark.EvalError); ok {
			c.problem("the Tiltfile fails to load: %s", evalErr.Backtrace())
		} else {
			c.problem("the Tiltfile fails to load: %v", err)
		}
		return c, nil
	}
	c.checkHelm()
	c.checkLocalResources()
	for _, img := range c.images {
		c.checkImage(img)
	}
	c.checkK8s()
	return c, nil
}

func (c *checker) checkHelm() {
	for _, h := range c.helmCalls {
		where := h.pos + ": helm(" + h.chart + ")"
		if c.requirePath(where, "chart directory", h.chart) && !c.fs.exists(c.rel(h.chart)+"/Chart.yaml") {
			c.problem("%s: %s has no Chart.yaml", where, h.chart)
		}
		for _, v := range h.values {
			c.requirePath(where, "values file", v)
		}
	}
}

var labelRe = regexp.MustCompile(`^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$`)

func (c *checker) checkLabels(where string, labels []string) {
	for _, l := range labels {
		if !labelRe.MatchString(l) {
			c.problem("%s: label %q is not one Tilt accepts (alphanumeric at both ends, - _ . inside, at most 63 characters)", where, l)
		}
	}
}

func (c *checker) checkLocalResources() {
	for _, r := range c.locals {
		where := r.pos + ": local_resource(" + r.name + ")"
		for _, d := range r.deps {
			c.requirePath(where, "deps entry", d)
		}
		c.checkLabels(where, r.labels)
	}
}

// ignoreMatchers are the exclusions Tilt applies to an image's files (the build context and Live Update alike):
// ignore= and the ignore file, all relative to the context.
func (c *checker) ignoreMatchers(img *image) (map[string]*patternmatcher.PatternMatcher, error) {
	out := map[string]*patternmatcher.PatternMatcher{}
	if len(img.ignore) > 0 {
		pm, err := patternmatcher.New(img.ignore)
		if err != nil {
			return nil, fmt.Errorf("ignore=: %v", err)
		}
		out["ignore="] = pm
	}
	// As in BuildKit (and Tilt), a <Dockerfile>.dockerignore replaces the context's .dockerignore.
	for _, file := range []string{c.rel(img.dockerfile) + ".dockerignore", path.Join(c.rel(img.context), ".dockerignore")} {
		p, ok := c.fs.find(file)
		if !ok || img.dockerfile == "" && strings.HasSuffix(file, "Dockerfile.dockerignore") {
			continue
		}
		f, err := os.Open(p)
		if err != nil {
			return nil, err
		}
		patterns, err := ignorefile.ReadAll(f)
		_ = f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		pm, err := patternmatcher.New(patterns)
		if err != nil {
			return nil, fmt.Errorf("%s: %v", file, err)
		}
		out[file] = pm
		break
	}
	return out, nil
}

// excludedBy names the exclusion a context-relative path falls under, or "".
func excludedBy(matchers map[string]*patternmatcher.PatternMatcher, rel string) string {
	names := make([]string, 0, len(matchers))
	for n := range matchers {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		//nolint:staticcheck // MatchesOrParentMatches is what the docker CLI uses for .dockerignore.
		if m, _ := matchers[n].MatchesOrParentMatches(rel); m {
			if p := excludingPattern(matchers[n], rel); p != "" {
				return fmt.Sprintf("%s (pattern %q)", n, p)
			}
			return n
		}
	}
	return ""
}

// excludingPattern is the last pattern of a matcher that excludes rel (or a folder holding it), for messages.
func excludingPattern(pm *patternmatcher.PatternMatcher, rel string) string {
	found := ""
	for _, p := range pm.Patterns() {
		if p.Exclusion() {
			continue
		}
		one, err := patternmatcher.New([]string{p.String()})
		if err != nil {
			continue
		}
		//nolint:staticcheck // as above
		if m, _ := one.MatchesOrParentMatches(rel); m {
			found = p.String()
		}
	}
	return found
}

func (c *checker) checkImage(img *image) {
	where := img.pos + ": docker_build(" + img.ref + ")"
	ctx := c.rel(img.context)
	if !c.requirePath(where, "context", img.context) {
		return
	}
	if !c.fs.isDir(ctx) {
		c.problem("%s: context %q is not a directory", where, img.context)
		return
	}
	// Paths inside the context, relative to it; only= entries are real paths, not globs (as in Tilt).
	inContext := func(p string) (string, bool) {
		rel := c.rel(p)
		if !under(rel, ctx) {
			return "", false
		}
		r, _ := filepath.Rel(ctx, rel)
		return filepath.ToSlash(r), true
	}
	var only []string
	for _, o := range img.only {
		rel := c.rel(path.Join(ctx, o))
		if c.requirePath(where, "only entry", rel) {
			r, _ := inContext(rel)
			only = append(only, r)
		}
	}
	inOnly := func(r string) bool {
		if len(only) == 0 {
			return true
		}
		for _, o := range only {
			if under(r, o) {
				return true
			}
		}
		return false
	}
	matchers, err := c.ignoreMatchers(img)
	if err != nil {
		c.problem("%s: %v", where, err)
	}

	// The Dockerfile: the target is one of its stages, and what the target's stages read from the context is there.
	if img.dockerfile != "" && c.requirePath(where, "dockerfile", img.dockerfile) {
		data, _ := c.fs.read(c.rel(img.dockerfile))
		df, err := parseDockerfile(string(data))
		if err != nil {
			c.problem("%s: %s: %v", where, img.dockerfile, err)
		} else {
			c.checkTarget(where, img, df, only)
		}
	}

	// Live Update.
	seenSync, seenRun := false, false
	var syncs []string
	for i, step := range img.steps {
		switch step.kind {
		case "initial_sync":
			if i != 0 {
				c.problem("%s: %s: initial_sync() must be the first live_update step", where, step.pos)
			}
		case "fall_back_on":
			if seenSync || seenRun {
				c.problem("%s: %s: fall_back_on() must come before every sync() and run()", where, step.pos)
			}
			for _, p := range step.paths {
				if !c.requirePath(where, "fall_back_on path", p) {
					continue
				}
				if r, ok := inContext(p); !ok || !inOnly(r) {
					c.problem("%s: %s: fall_back_on path %q is not among the files this image watches (context %q, only=)", where, step.pos, p, img.context)
				}
			}
		case "sync":
			seenSync = true
			if seenRun {
				c.problem("%s: %s: sync() after run(): syncs come first", where, step.pos)
			}
			if !c.requirePath(where, "sync source", step.src) {
				continue
			}
			r, ok := inContext(step.src)
			switch {
			case !ok:
				c.problem("%s: %s: sync source %q is outside the build context %q: Tilt never sees it change", where, step.pos, step.src, img.context)
			case !inOnly(r) && !anyUnder(only, r):
				c.problem("%s: %s: sync source %q is outside only=: Tilt never sees it change", where, step.pos, step.src)
			default:
				if by := excludedBy(matchers, r); by != "" {
					c.problem("%s: %s: sync source %q is excluded by %s: Tilt never sees it change", where, step.pos, step.src, by)
				}
			}
			syncs = append(syncs, c.rel(step.src))
		case "run":
			seenRun = true
			excluded := map[string][]string{}
			for _, t := range step.paths {
				rel := c.rel(t)
				synced := false
				for _, s := range syncs {
					synced = synced || under(rel, s)
				}
				if !synced {
					c.problem("%s: %s: run() trigger %q is not under any sync() before it: it can never fire", where, step.pos, t)
					continue
				}
				// Triggers may be build output (dist/) that does not exist yet; the folder holding it must.
				if !c.fs.exists(path.Dir(rel)) {
					c.problem("%s: %s: run() trigger %q: %q does not exist", where, step.pos, t, path.Dir(rel))
				}
				r, _ := inContext(rel)
				if !inOnly(r) {
					c.problem("%s: %s: run() trigger %q is outside only=: Tilt never sees it change", where, step.pos, t)
				} else if by := excludedBy(matchers, r); by != "" || excludedBy(matchers, r+"/main.js") != "" {
					if by == "" {
						by = excludedBy(matchers, r+"/main.js")
					}
					excluded[by] = append(excluded[by], fmt.Sprintf("%q", t))
				}
			}
			for _, by := range keys(excluded) {
				c.problem("%s: %s: run() triggers %s are excluded by %s: Tilt ignores every change there, so Live Update never syncs what they hold and never runs this step: the change never reaches the running process", where, step.pos, strings.Join(excluded[by], ", "), by)
			}
		case "restart_container":
			c.problem("%s: %s: restart_container() is for Docker Compose resources only; it does not restart a Kubernetes container (see the restart comments in the Tiltfile)", where, step.pos)
		}
	}
}

// anyUnder: some entry of list is inside dir (a sync of a folder only partly in only= still sees those parts).
func anyUnder(list []string, dir string) bool {
	for _, l := range list {
		if under(l, dir) {
			return true
		}
	}
	return false
}

func hasGlob(p string) bool { return strings.ContainsAny(p, "*?[") }

func (c *checker) checkTarget(where string, img *image, df *dockerfile, only []string) {
	var target *stage
	if img.target == "" {
		target = df.stages[len(df.stages)-1]
	} else if target = df.stage(img.target); target == nil || target.name == "" {
		c.problem("%s: target %q is not a stage of %s (stages: %s)", where, img.target, img.dockerfile, strings.Join(df.stageNames(), ", "))
		return
	}
	if len(only) == 0 {
		return
	}
	ctx := c.rel(img.context)
	covered := func(src string) bool {
		for _, o := range only {
			if under(src, o) || under(o, src) {
				return true
			}
		}
		return false
	}
	for _, s := range df.closure(target) {
		for _, read := range s.reads {
			if strings.Contains(read, "$") {
				continue // depends on a build argument this checker cannot know
			}
			src := path.Clean(strings.TrimPrefix(read, "/"))
			if !hasGlob(src) {
				if !covered(src) {
					c.problem("%s: stage %q (line %d of %s) copies %q from the context, which only= leaves out: the build would fail under Tilt", where, stageLabel(s), s.line, img.dockerfile, read)
				}
				continue
			}
			for _, m := range c.fs.glob(path.Join(ctx, src)) {
				r, _ := filepath.Rel(ctx, m)
				if !covered(filepath.ToSlash(r)) {
					c.problem("%s: stage %q (line %d of %s) copies %q, matching %q, which only= leaves out", where, stageLabel(s), s.line, img.dockerfile, read, r)
				}
			}
		}
	}
}

func stageLabel(s *stage) string {
	if s.name == "" {
		return "FROM " + s.base
	}
	return s.name
}

// normalizeImage drops the tag or digest and Docker Hub's implicit prefixes: what Tilt matches images by.
func normalizeImage(ref string) string {
	if i := strings.Index(ref, "@"); i >= 0 {
		ref = ref[:i]
	}
	if i := strings.LastIndex(ref, ":"); i > strings.LastIndex(ref, "/") {
		ref = ref[:i]
	}
	ref = strings.TrimPrefix(ref, "docker.io/")
	ref = strings.TrimPrefix(ref, "index.docker.io/")
	return strings.TrimPrefix(ref, "library/")
}

func (c *checker) checkK8s() {
	if len(c.objects) == 0 {
		c.problem("the Tiltfile gives k8s_yaml no objects: nothing would be deployed")
	}
	// Workloads, by the resource name Tilt gives them (the object's name; name:kind when two kinds share a name).
	byName := map[string][]k8sObject{}
	for _, o := range c.objects {
		if workloadKinds[o.kind()] {
			byName[o.name()] = append(byName[o.name()], o)
		}
	}
	workloads := map[string]k8sObject{}
	for name, objs := range byName {
		kinds := map[string]bool{}
		for _, o := range objs {
			kinds[o.kind()] = true
		}
		if len(kinds) == 1 { // one object, or the same one again (k8s_yaml reports that unless allow_duplicates)
			workloads[name] = objs[0]
			continue
		}
		for _, o := range objs {
			workloads[name+":"+strings.ToLower(o.kind())] = o
		}
	}

	// Images: each one built is used by some container.
	used := map[string]bool{}
	for _, o := range c.objects {
		for _, ctr := range o.containers(true) {
			used[normalizeImage(ctr.image)] = true
		}
	}
	for _, img := range c.images {
		if !used[normalizeImage(img.ref)] {
			c.problem("%s: docker_build(%s): no container in the deployed YAML uses image %q", img.pos, img.ref, img.ref)
		}
	}

	// Live Update writes into running containers: not into a read-only root file system.
	for _, img := range c.images {
		syncs := false
		for _, s := range img.steps {
			syncs = syncs || s.kind == "sync"
		}
		if !syncs {
			continue
		}
		for _, o := range c.objects {
			if k := o.kind(); k != "Deployment" && k != "StatefulSet" && k != "DaemonSet" {
				continue
			}
			for _, ctr := range o.containers(false) {
				if normalizeImage(ctr.image) == normalizeImage(img.ref) && ctr.readOnlyRoot {
					c.problem("%s: docker_build(%s): Live Update syncs into container %q of %s %s, which has a read-only root file system", img.pos, img.ref, ctr.name, o.kind(), o.name())
				}
			}
		}
	}

	// Resources: workloads (renamed by k8s_resource(new_name=)), new ones from objects=, local resources.
	resources := map[string]string{}
	for name := range workloads {
		resources[name] = "workload"
	}
	for _, r := range c.k8sResources {
		where := r.pos + ": k8s_resource(" + r.workload + r.newName + ")"
		if r.workload != "" {
			o, ok := workloads[r.workload]
			if !ok {
				if objs := byName[r.workload]; len(objs) > 1 {
					c.problem("%s: %q names %d workloads of different kinds; Tilt calls them %q:<kind>", where, r.workload, len(objs), r.workload)
				} else {
					c.problem("%s: no workload (Deployment, StatefulSet, Job, ...) named %q in the deployed YAML%s", where, r.workload, suggest(r.workload, keys(workloads)))
				}
			} else {
				c.checkPortForwards(where, r, o)
			}
			if r.newName != "" {
				delete(resources, r.workload)
			}
		} else if len(r.portForwards) > 0 {
			c.problem("%s: port_forwards on a resource without a workload", where)
		}
		if r.newName != "" {
			resources[r.newName] = "k8s_resource"
		}
		for _, sel := range r.objects {
			if !c.selectorMatches(sel) {
				c.problem("%s: objects entry %q matches no object of the deployed YAML", where, sel)
			}
		}
		c.checkLabels(where, r.labels)
	}
	for _, l := range c.locals {
		if _, dup := resources[l.name]; dup {
			c.problem("%s: local_resource(%s): a Kubernetes resource has that name already", l.pos, l.name)
		}
		resources[l.name] = "local_resource"
	}

	// resource_deps: known resources, no cycles.
	deps := map[string][]string{}
	checkDeps := func(where, self string, list []string) {
		for _, d := range list {
			if d == self {
				c.problem("%s: depends on itself", where)
			} else if _, ok := resources[d]; !ok {
				c.problem("%s: resource_deps entry %q is not a resource (workload, k8s_resource or local_resource)%s", where, d, suggest(d, keys(resources)))
			} else {
				deps[self] = append(deps[self], d)
			}
		}
	}
	for _, r := range c.k8sResources {
		name := r.workload
		if r.newName != "" {
			name = r.newName
		}
		checkDeps(r.pos+": k8s_resource("+name+")", name, r.resourceDeps)
	}
	for _, l := range c.locals {
		checkDeps(l.pos+": local_resource("+l.name+")", l.name, l.resourceDeps)
	}
	if cycle := findCycle(deps); cycle != nil {
		c.problem("resource_deps form a cycle: %s", strings.Join(cycle, " -> "))
	}
	for _, name := range c.enabledResources {
		if _, ok := resources[name]; !ok {
			c.problem("config.set_enabled_resources: %q is not a resource", name)
		}
	}
}

// checkPortForwards: the container port of each forward (the local one when not given) is one the workload's
// containers declare. (Tilt falls back to the first declared port for an undeclared one; a forward that only works
// by that accident is reported.)
func (c *checker) checkPortForwards(where string, r *k8sResource, o k8sObject) {
	ports := map[int]bool{}
	var all []string
	for _, ctr := range o.containers(false) {
		for _, p := range ctr.ports {
			ports[p] = true
			all = append(all, fmt.Sprintf("%s:%d", ctr.name, p))
		}
	}
	for _, pf := range r.portForwards {
		target := pf.container
		if target == 0 {
			target = pf.local
		}
		if !ports[target] {
			c.problem("%s: port forward %d -> %d: %s %s declares no container port %d (declared: %s)", where, pf.local, target, o.kind(), o.name(), target, strings.Join(all, ", "))
		}
	}
}

// selectorMatches: Tilt's object selector name[:kind[:namespace]], case-insensitive.
func (c *checker) selectorMatches(sel string) bool {
	parts := strings.Split(strings.ToLower(sel), ":")
	for _, o := range c.objects {
		if strings.ToLower(o.name()) != parts[0] {
			continue
		}
		if len(parts) > 1 && strings.ToLower(o.kind()) != parts[1] {
			continue
		}
		if len(parts) > 2 && strings.ToLower(o.namespace()) != parts[2] {
			continue
		}
		return true
	}
	return false
}

func findCycle(deps map[string][]string) []string {
	const (
		visiting = 1
		done     = 2
	)
	state := map[string]int{}
	var stack []string
	var cycle []string
	var visit func(n string) bool
	visit = func(n string) bool {
		state[n] = visiting
		stack = append(stack, n)
		for _, d := range deps[n] {
			if state[d] == visiting {
				for i, s := range stack {
					if s == d {
						cycle = append(append([]string{}, stack[i:]...), d)
					}
				}
				return true
			}
			if state[d] == 0 && visit(d) {
				return true
			}
		}
		stack = stack[:len(stack)-1]
		state[n] = done
		return false
	}
	for _, n := range keys(deps) {
		if state[n] == 0 && visit(n) {
			return cycle
		}
	}
	return nil
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// suggest lists the known names, so a typo's correction is in the message.
func suggest(_ string, known []string) string {
	if len(known) == 0 {
		return ""
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}
