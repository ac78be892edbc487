package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"go.starlark.net/starlark"
)

// The repository's Tiltfile, checked against fixtures written to the contract (testdata/README.md): the Dockerfile
// and chart files in testdata/repo lie over the repository, testdata/rendered.yaml stands for `helm template`.
const (
	repoRoot = "../.."
	fixtures = "testdata/repo"
	rendered = "testdata/rendered.yaml"
)

func tiltfile(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot, "Tiltfile"))
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func run(t *testing.T, source string, overlays ...string) *checker {
	t.Helper()
	root, err := filepath.Abs(repoRoot)
	if err != nil {
		t.Fatal(err)
	}
	yaml, err := os.ReadFile(rendered)
	if err != nil {
		t.Fatal(err)
	}
	var layers []string
	for _, o := range append(overlays, fixtures) {
		abs, err := filepath.Abs(o)
		if err != nil {
			t.Fatal(err)
		}
		layers = append(layers, abs)
	}
	c, err := check(options{tiltfile: "Tiltfile", source: []byte(source), root: root, overlays: layers,
		yaml: string(yaml), env: map[string]string{}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRepositoryTiltfileIsConsistent(t *testing.T) {
	c := run(t, tiltfile(t))
	if len(c.problems) > 0 {
		t.Fatalf("want no problems, got:\n  %s", strings.Join(c.problems, "\n  "))
	}
	var refs []string
	for _, img := range c.images {
		refs = append(refs, img.ref+"@"+img.target)
		dockerfile := "deploy/docker/Dockerfile"
		if slices.Contains([]string{"redis", "postgres", "kafka"}, img.target) {
			dockerfile = "deploy/docker/infra.Dockerfile"
			if len(img.steps) > 0 {
				t.Errorf("%s: the infrastructure images have no Live Update", img.ref)
			}
		}
		if img.dockerfile != dockerfile || img.context != "." {
			t.Errorf("%s: dockerfile %q context %q, want %q and .", img.ref, img.dockerfile, img.context, dockerfile)
		}
	}
	slices.Sort(refs)
	want := []string{"flash-sale/gateway@gateway", "flash-sale/inventory@inventory", "flash-sale/kafka@kafka",
		"flash-sale/order@order", "flash-sale/payment@payment", "flash-sale/postgres@postgres",
		"flash-sale/promotion@promotion", "flash-sale/redis@redis"}
	if !slices.Equal(refs, want) {
		t.Fatalf("images %v, want %v", refs, want)
	}
	byName := map[string]*k8sResource{}
	for _, r := range c.k8sResources {
		byName[r.workload] = r
	}
	infra := []string{"flash-sale-infra-redis", "flash-sale-infra-kafka", "flash-sale-infra-postgres"}
	jobs := []string{"flash-sale-migrations", "flash-sale-topics"}
	for _, n := range infra {
		if r := byName[n]; r == nil || !slices.Equal(r.labels, []string{"infra"}) {
			t.Errorf("no k8s_resource(%s, labels=['infra'])", n)
		}
	}
	for _, n := range jobs {
		r := byName[n]
		if r == nil {
			t.Fatalf("no k8s_resource for the Job %s", n)
		}
		for _, d := range infra {
			if !slices.Contains(r.resourceDeps, d) {
				t.Errorf("the Job %s does not depend on %s (deps %v)", n, d, r.resourceDeps)
			}
		}
	}
	for _, s := range []string{"gateway", "promotion", "inventory", "order", "payment"} {
		r := byName["flash-sale-"+s]
		if r == nil {
			t.Fatalf("no k8s_resource for flash-sale-%s", s)
		}
		for _, d := range append(append([]string{}, infra...), jobs...) {
			if !slices.Contains(r.resourceDeps, d) {
				t.Errorf("flash-sale-%s does not depend on %s (deps %v)", s, d, r.resourceDeps)
			}
		}
	}
	gw := byName["flash-sale-gateway"]
	for _, s := range []string{"promotion", "inventory", "order", "payment"} {
		if !slices.Contains(gw.resourceDeps, "flash-sale-"+s) {
			t.Errorf("the gateway does not depend on flash-sale-%s", s)
		}
	}
	if len(gw.portForwards) != 1 || gw.portForwards[0].local != 8080 || gw.portForwards[0].container != 8080 {
		t.Errorf("gateway port forwards %v, want 8080:8080", gw.portForwards)
	}
	if _, ok := byName["flash-sale-smoke-test"]; ok {
		t.Errorf("the helm test Pod became a resource")
	}
	// The workload Deployments run the restart supervisor; the Jobs (the migration Job uses the order image) and
	// the infrastructure keep their own command.
	for _, o := range c.objects {
		for _, ctr := range o.containers(false) {
			cmd, _ := dig(o.podSpec()["containers"].([]any)[0], "command").([]any)
			supervised := len(cmd) > 2 && cmd[0] == "sh" && strings.Contains(cmd[2].(string), "USR1")
			if want := o.kind() == "Deployment"; supervised != want {
				t.Errorf("%s %s (%s): supervised=%v, want %v", o.kind(), o.name(), ctr.image, supervised, want)
			}
		}
		if o.kind() == "Pod" {
			t.Errorf("the helm test Pod is deployed")
		}
		if o.kind() != "Namespace" && o.namespace() != "flash-sale" {
			t.Errorf("%s %s is not put in namespace flash-sale", o.kind(), o.name())
		}
	}
	// Every object of both charts is deployed, once (but the helm test Pod), plus the namespace.
	all, err := parseObjects(readFixture(t, rendered))
	if err != nil {
		t.Fatal(err)
	}
	var wantIDs, gotIDs []string
	for _, o := range all {
		if o.kind() != "Pod" {
			o["metadata"].(map[string]any)["namespace"] = "flash-sale"
			wantIDs = append(wantIDs, o.id())
		}
	}
	wantIDs = append(wantIDs, "Namespace flash-sale")
	for _, o := range c.objects {
		gotIDs = append(gotIDs, o.id())
	}
	slices.Sort(wantIDs)
	slices.Sort(gotIDs)
	if !slices.Equal(gotIDs, wantIDs) {
		t.Errorf("deployed objects:\n  %s\nwant:\n  %s", strings.Join(gotIDs, "\n  "), strings.Join(wantIDs, "\n  "))
	}
	var locals []string
	for _, l := range c.locals {
		locals = append(locals, l.name)
	}
	if !slices.Equal(locals, []string{"proto-gen", "compile"}) {
		t.Errorf("local resources %v", locals)
	}
}

func readFixture(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// sources lists the charts named by the `# Source:` marks of a rendering.
func sources(text string) []string {
	_, charts := documentsOf(text, "")
	return charts
}

// The Tiltfile calls helm() once per chart; each call gets its own chart's documents of the rendering (which holds
// both), so no object is deployed twice.
func TestHelmReturnsEachChartsOwnDocuments(t *testing.T) {
	c := run(t, tiltfile(t))
	if len(c.helmCalls) != 2 {
		t.Fatalf("want 2 helm() calls, got %d", len(c.helmCalls))
	}
	for i, want := range []struct{ chart, name string }{
		{"deploy/helm/flash-sale", "flash-sale"}, {"deploy/helm/flash-sale-infra", "flash-sale-infra"},
	} {
		h := c.helmCalls[i]
		if h.chart != want.chart || h.chartName != want.name {
			t.Fatalf("helm() call %d: chart %q named %q, want %q named %q", i, h.chart, h.chartName, want.chart, want.name)
		}
		if got := sources(h.rendered); !slices.Equal(got, []string{want.name}) {
			t.Errorf("helm(%s) returned documents of %v, want only %s's", h.chart, got, want.name)
		}
	}
	mesh, _ := parseObjects(c.helmCalls[0].rendered)
	infra, _ := parseObjects(c.helmCalls[1].rendered)
	all, _ := parseObjects(readFixture(t, rendered))
	if len(mesh) == 0 || len(infra) == 0 || len(mesh)+len(infra) != len(all) {
		t.Errorf("helm() calls returned %d + %d objects, the rendering holds %d", len(mesh), len(infra), len(all))
	}
	for _, o := range infra {
		if !strings.HasPrefix(o.name(), "flash-sale-infra-") {
			t.Errorf("helm(flash-sale-infra) returned %s", o.id())
		}
	}

	// "flash-sale/" is a prefix of neither "flash-sale-infra/" nor the other way round; a document without a mark
	// belongs to no chart.
	docs, charts := documentsOf("---\n# Source: flash-sale-infra/templates/a.yaml\nkind: A\n---\n"+
		"# Source: flash-sale/templates/b.yaml\nkind: B\n---\nkind: C\n", "flash-sale")
	if docs != "---\n# Source: flash-sale/templates/b.yaml\nkind: B\n" || !slices.Equal(charts, []string{"flash-sale", "flash-sale-infra"}) {
		t.Errorf("documentsOf: %q %v", docs, charts)
	}
}

// A rendering that cannot stand for both helm() calls is reported, not deployed twice or half.
func TestRenderingMustHoldEachChart(t *testing.T) {
	whole := readFixture(t, rendered)
	var unmarked []string
	for _, line := range strings.Split(whole, "\n") {
		if !strings.HasPrefix(line, "# Source: ") {
			unmarked = append(unmarked, line)
		}
	}
	meshOnly, _ := documentsOf(whole, "flash-sale")
	cases := []struct{ name, yaml, want string }{
		{"no Source marks", strings.Join(unmarked, "\n"), "has no `# Source:` marks"},
		{"a chart left out", meshOnly, `has no documents of chart "flash-sale-infra" (it holds: flash-sale)`},
		{"a chart rendered twice", whole + "\n---\n" + meshOnly, "k8s_yaml: Deployment.apps flash-sale/flash-sale-gateway is deployed twice"},
	}
	root, _ := filepath.Abs(repoRoot)
	fx, _ := filepath.Abs(fixtures)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := check(options{tiltfile: "Tiltfile", source: []byte(tiltfile(t)), root: root, overlays: []string{fx},
				yaml: tc.yaml, env: map[string]string{}})
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range c.problems {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Fatalf("want a problem containing %q, got:\n  %s", tc.want, strings.Join(c.problems, "\n  "))
		})
	}
}

// Extra values files come from the `values` setting; a missing one stops the Tiltfile with a clear message.
func TestExtraValuesFiles(t *testing.T) {
	root, _ := filepath.Abs(repoRoot)
	yaml, _ := os.ReadFile(rendered)
	fx, _ := filepath.Abs(fixtures)
	c, err := check(options{tiltfile: "Tiltfile", source: []byte(tiltfile(t)), root: root, overlays: []string{fx},
		yaml: string(yaml), env: map[string]string{"FLASH_SALE_VALUES": "deploy/helm/flash-sale/Chart.yaml"},
		settings: map[string]starlark.Value{"values": starlark.NewList([]starlark.Value{starlark.String("nope.yaml")})}})
	if err != nil {
		t.Fatal(err)
	}
	if len(c.problems) != 1 || !strings.Contains(c.problems[0], "Helm values file nope.yaml does not exist") {
		t.Fatalf("want the missing values file reported, got %v", c.problems)
	}
}

// Each broken variant must be caught, with a message naming what is wrong: a check that passes everything proves
// nothing.
func TestBrokenTiltfilesAreRejected(t *testing.T) {
	original := tiltfile(t)
	cases := []struct{ name, from, to, want string }{
		{"missing dockerfile", "DOCKERFILE = 'deploy/docker/Dockerfile'", "DOCKERFILE = 'deploy/docker/Dockerfile.dev'",
			`dockerfile "deploy/docker/Dockerfile.dev" does not exist`},
		{"missing local_resource dep", "'packages/contracts/buf.gen.yaml',", "'packages/contracts/buf.gen.yml',",
			`deps entry "packages/contracts/buf.gen.yml" does not exist`},
		{"missing only entry", "'tsconfig.source.json', 'proto',", "'tsconfig.source.json', 'protos',",
			`only entry "protos" does not exist`},
		{"missing sync source", "sync('proto', '/app/proto')", "sync('protos', '/app/proto')",
			`sync source "protos" does not exist`},
		{"path outside the repository", "sync('proto', '/app/proto')", "sync('../proto', '/app/proto')",
			`sync source "../proto" is outside the repository`},
		{"missing chart", "CHART = 'deploy/helm/flash-sale'", "CHART = 'deploy/helm/flashsale'",
			"deploy/helm/flashsale/Chart.yaml is missing"},
		{"wrong target", "target=name,", "target=name + '-dev',",
			`target "gateway-dev" is not a stage of deploy/docker/Dockerfile`},
		{"unknown keyword", "target=name,", "target=name, stage=name,",
			"docker_build: unexpected keyword argument \"stage\""},
		{"unknown keyword in k8s_resource", "labels=['gateway'],", "labels=['gateway'], port_forward=8080,",
			"k8s_resource: unexpected keyword argument \"port_forward\""},
		{"unknown resource dep", "resource_deps=['proto-gen'],", "resource_deps=['protogen'],",
			`resource_deps entry "protogen" is not a resource`},
		{"unknown workload", "'flash-sale-gateway',\n    port_forwards", "'flash-sale-gw',\n    port_forwards",
			`no workload (Deployment, StatefulSet, Job, ...) named "flash-sale-gw"`},
		{"image not in the chart", "'flash-sale/' + name,", "'flash-sale/' + name + '-dev',",
			`no container in the deployed YAML uses image "flash-sale/gateway-dev"`},
		{"port not exposed", "port_forward(8080, 8080, name='gateway')", "port_forward(8080, 3000, name='gateway')",
			"declares no container port 3000"},
		{"only= leaves out what the Dockerfile copies", "'tsconfig.check.json',", "",
			`copies "tsconfig*.json", matching "tsconfig.check.json", which only= leaves out`},
		{"only= leaves out a folder the Dockerfile copies", "'infra', ", "",
			`copies "infra" from the context, which only= leaves out`},
		{"live update into a read-only root", "'readOnlyRootFilesystem': False, ", "",
			`which has a read-only root file system`},
		{"restart_container on Kubernetes", "run('kill -USR1 1', trigger=['packages/%s/dist' % p for p in PACKAGES if p != 'testing'] + [folder + '/dist']),",
			"restart_container(),", "restart_container() is for Docker Compose resources only"},
		{"sync after run", "            sync('proto', '/app/proto'),\n            run(", "            run('true'),\n            sync('proto', '/app/proto'),\n            run(",
			"sync() after run()"},
		{"trigger outside the syncs", "+ [folder + '/dist']),", "+ ['bench/dist']),",
			`run() trigger "bench/dist" is not under any sync()`},
		{"resource cycle", "    'inventory': [],", "    'inventory': ['payment'],", "resource_deps form a cycle"},
		{"extension load", "version_settings(constraint='>=0.33.0')", "load('ext://restart_process', 'docker_build_with_restart')",
			"Tilt extensions are fetched from GitHub"},
		{"invalid label", "labels=['infra']", "labels=['in fra']", `label "in fra" is not one Tilt accepts`},
		{"missing infrastructure chart", "INFRA_CHART = 'deploy/helm/flash-sale-infra'", "INFRA_CHART = 'deploy/helm/flash-sale-infr'",
			`chart directory "deploy/helm/flash-sale-infr" does not exist`},
		{"infrastructure target not a stage", "target=name,\n                 only=", "target=name + '-server',\n                 only=",
			`target "redis-server" is not a stage of deploy/docker/infra.Dockerfile`},
		{"only= leaves out what the infrastructure Dockerfile copies", "only=['deploy/docker', 'infra/kafka']", "only=['deploy/docker']",
			`copies "infra/kafka/pom.xml" from the context, which only= leaves out`},
		{"infrastructure image not in the chart", "for name in ['redis', 'postgres', 'kafka']:", "for name in ['redis', 'postgres', 'kafka', 'zookeeper']:",
			`no container in the deployed YAML uses image "flash-sale/zookeeper"`},
		{"one chart's objects deployed twice", "decode_yaml_stream(rendered) + decode_yaml_stream(infra_rendered)",
			"decode_yaml_stream(rendered) + decode_yaml_stream(infra_rendered) + decode_yaml_stream(infra_rendered)",
			"StatefulSet.apps flash-sale/flash-sale-infra-kafka is deployed twice"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(original, tc.from) {
				t.Fatalf("the Tiltfile no longer contains %q; update this case", tc.from)
			}
			c := run(t, strings.Replace(original, tc.from, tc.to, 1))
			for _, p := range c.problems {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Fatalf("want a problem containing %q, got:\n  %s", tc.want, strings.Join(c.problems, "\n  "))
		})
	}
}

// Broken surroundings: a .dockerignore that hides the compiled output from Tilt, a Dockerfile without the stage.
func TestBrokenSurroundingsAreRejected(t *testing.T) {
	cases := []struct{ name, file, content, want string }{
		{".dockerignore hides dist", ".dockerignore", "node_modules\n**/dist\n",
			`run() triggers "packages/config/dist", "packages/contracts/dist", "packages/db/dist", "packages/errors/dist", "packages/grpc-kit/dist", "packages/ids/dist", "packages/kafka-kit/dist", "packages/logging/dist", "packages/observability/dist", "packages/service-kit/dist", "services/order/dist" are excluded by .dockerignore (pattern "**/dist"): Tilt ignores every change there`},
		{"Dockerfile-specific ignore hides a sync", "deploy/docker/Dockerfile.dockerignore", "proto\n",
			`sync source "proto" is excluded by deploy/docker/Dockerfile.dockerignore`},
		{"Dockerfile lacks a target", "deploy/docker/Dockerfile",
			"FROM node:22 AS build\nCOPY . .\nFROM build AS gateway\n",
			`target "order" is not a stage of deploy/docker/Dockerfile (stages: build, gateway)`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			file := filepath.Join(dir, filepath.FromSlash(tc.file))
			if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			c := run(t, tiltfile(t), dir)
			for _, p := range c.problems {
				if strings.Contains(p, tc.want) {
					return
				}
			}
			t.Fatalf("want a problem containing %q, got:\n  %s", tc.want, strings.Join(c.problems, "\n  "))
		})
	}
}
