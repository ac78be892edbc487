package main

import (
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

// A small repository in the shape of the real one: a Dockerfile with a target, a chart whose rendering runs that
// image, and a Tiltfile that builds, renders (through decode/encode, as the real one does) and configures it.
const goodTiltfile = `
docker_build('example/app', '.', dockerfile='Dockerfile', target='app', only=['src'],
             live_update=[fall_back_on(['src/package.json']), sync('src', '/app/src'), run('true', trigger=['src/dist'])])
objects = [o for o in decode_yaml_stream(helm('chart', name='demo', namespace='demo', values=['chart/values.yaml'])) if o]
k8s_yaml(encode_yaml_stream(objects))
local_resource('gen', cmd='true', deps=['src'])
k8s_resource('demo-app', port_forwards=[port_forward(8080, 8080)], resource_deps=['gen'])
k8s_resource('demo-job', port_forwards='9090', resource_deps=['demo-app'])
`

// What helm renders for it: a Deployment running the image, a Job running another, and an object without pods.
const rendering = `---
# Source: demo/templates/app.yaml
kind: Deployment
metadata: {name: demo-app}
spec: {template: {spec: {containers: [{name: app, image: "example/app:1.0", ports: [{containerPort: 8080}]}]}}}
---
kind: Job
metadata: {name: demo-job}
spec: {template: {spec: {containers: [{name: job, image: busybox, ports: [{containerPort: 9090}]}]}}}
---
kind: Service
metadata: {name: demo-svc}
`

func check(t *testing.T, tiltfile string) []string {
	t.Helper()
	t.Chdir(t.TempDir())
	if err := os.CopyFS(".", fstest.MapFS{
		"Dockerfile":        {Data: []byte("FROM scratch AS base\nFROM --platform=linux/amd64 base AS app\n")},
		"src/package.json":  {Data: []byte("{}")},
		"chart/Chart.yaml":  {Data: []byte("name: demo")},
		"chart/values.yaml": {},
	}); err != nil {
		t.Fatal(err)
	}
	c := &checker{render: func(args []string) (string, error) {
		want := "template demo chart --namespace demo --values chart/values.yaml"
		if got := strings.Join(args, " "); got != want {
			t.Errorf("helm %s, want helm %s", got, want)
		}
		return rendering, nil
	}}
	problems := c.run("Tiltfile", []byte(tiltfile))
	if len(problems) == 0 && len(c.objects) != 3 {
		t.Errorf("k8s_yaml got %d objects, want 3", len(c.objects))
	}
	return problems
}

func TestGoodTiltfilePasses(t *testing.T) {
	if problems := check(t, goodTiltfile); len(problems) > 0 {
		t.Fatalf("want no problems, got:\n  %s", strings.Join(problems, "\n  "))
	}
}

// Each broken variant is caught with a message naming what is wrong: a check that passes everything proves nothing.
func TestBrokenTiltfilesFail(t *testing.T) {
	cases := []struct{ name, from, to, want string }{
		{"missing Dockerfile", "dockerfile='Dockerfile'", "dockerfile='Dockerfile.dev'", `dockerfile "Dockerfile.dev" does not exist`},
		{"target not a stage", "target='app'", "target='ap'", `target "ap" is not a stage of Dockerfile (stages: base, app)`},
		{"image the chart does not run", "'example/app'", "'example/api'", `no container among the objects given to k8s_yaml uses image "example/api"`},
		{"resource not in the chart", "k8s_resource('demo-app'", "k8s_resource('demo-api'", `no workload named "demo-api"`},
		{"resource not a workload", "k8s_resource('demo-job'", "k8s_resource('demo-svc'", `no workload named "demo-svc"`},
		{"port not declared", "port_forward(8080, 8080)", "port_forward(8080, 3000)", "declares no container port 3000"},
		{"port string not declared", "port_forwards='9090'", "port_forwards='9090:80'", "declares no container port 80"},
		{"missing only entry", "only=['src']", "only=['lib']", `only entry "lib" does not exist`},
		{"missing deps entry", "deps=['src']", "deps=['lib']", `deps entry "lib" does not exist`},
		{"missing sync source", "sync('src'", "sync('lib'", `sync: source "lib" does not exist`},
		{"missing fall_back_on file", "'src/package.json'", "'package.json'", `fall_back_on: path "package.json" does not exist`},
		{"missing trigger folder", "trigger=['src/dist']", "trigger=['lib/dist']", `run: folder of trigger "lib" does not exist`},
		{"unknown resource dep", "resource_deps=['gen']", "resource_deps=['generate']", `resource_deps entry "generate" is not`},
		{"unknown keyword", "target='app'", "stage='app'", `unexpected keyword argument "stage"`},
		{"nothing deployed", "k8s_yaml(", "str(", "nothing is given to k8s_yaml"},
		{"missing chart", "helm('chart'", "helm('charts'", "chart charts/Chart.yaml does not exist"},
		{"extension", "\ndocker_build", "\nload('ext://restart_process', 'x')\ndocker_build", `load("ext://restart_process")`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(goodTiltfile, tc.from) {
				t.Fatalf("the Tiltfile has no %q", tc.from)
			}
			problems := check(t, strings.Replace(goodTiltfile, tc.from, tc.to, 1))
			if !strings.Contains(strings.Join(problems, "\n"), tc.want) {
				t.Fatalf("want a problem containing %q, got:\n  %s", tc.want, strings.Join(problems, "\n  "))
			}
		})
	}
}
