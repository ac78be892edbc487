package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// The configurations scripts/envoy-config.ts generated (scripts/check-envoy.sh writes them before running the tests),
// each directory holding envoy.yaml and, with mTLS on, the SDS files it names.
const (
	generatedOn  = "../../.cache/envoy/mtls-on"
	generatedOff = "../../.cache/envoy/mtls-off"
	descriptor   = "../../packages/contracts/descriptor/flashsale.binpb"
)

func TestGeneratedConfigIsValid(t *testing.T) {
	for _, tc := range []struct {
		dir  string
		mtls bool
	}{{generatedOn, true}, {generatedOff, false}} {
		problems, err := check(filepath.Join(tc.dir, "envoy.yaml"), descriptor, tc.mtls)
		if err != nil || len(problems) > 0 {
			t.Fatalf("%s: want a valid config, got err=%v problems=%v", tc.dir, err, problems)
		}
	}
}

// Each broken variant must be caught, with a message naming what is wrong: a check that passes everything proves
// nothing.
func TestBrokenConfigsAreRejected(t *testing.T) {
	original := read(t, filepath.Join(generatedOn, "envoy.yaml"))
	cases := []struct{ name, from, to, want string }{
		{"unknown field", "stat_prefix: flashsale", "stat_prefx: flashsale", `unknown field "stat_prefx"`},
		{"unknown filter type", "grpc_json_transcoder.v3.GrpcJsonTranscoder", "grpc_json_transcoder.v3.Transcoder", `unable to resolve "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.Transcoder"`},
		{"port out of range", "port_value: 8080", "port_value: 80800", "PortValue: value must be less than or equal to 65535"},
		{"negative timeout", "connect_timeout: 1s", "connect_timeout: -1s", "ConnectTimeout: value must be greater than 0s"},
		{"route to a missing cluster", "cluster: payment\n", "cluster: payments\n", `route to undefined cluster "payments"`},
		{"service not in proto", "- flashsale.order.v1.OrderService\n", "- flashsale.order.v1.OrdersService\n", "is not in the descriptor set"},
		{"rule names no provider", "provider_name: mesh", "provider_name: nobody", `undefined provider "nobody"`},
		{"unspecified SAN type", "san_type: URI", "san_type: SAN_TYPE_UNSPECIFIED", "SanType: value must not be in list"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(original, tc.from) {
				t.Fatalf("the generated config no longer contains %q; update this case", tc.from)
			}
			expectProblem(t, variant(t, strings.Replace(original, tc.from, tc.to, 1)), true, tc.want)
		})
	}
}

// The front's policy: only public methods routable, a valid token on every route, the client's identity headers
// removed, and mTLS to every upstream. Each variant breaks one of them in the structure of the generated config.
func TestPolicyViolationsAreRejected(t *testing.T) {
	const (
		reserve      = "/flashsale.inventory.v1.InventoryService/Reserve"
		reserveBatch = "/flashsale.inventory.v1.InventoryService/ReserveBatch"
	)
	cases := []struct {
		name   string
		mtls   bool
		change func(t *testing.T, config map[string]any)
		want   string
	}{
		{"a route to an internal method", true, func(t *testing.T, config map[string]any) {
			route(t, config, reserve)["match"] = map[string]any{"path": reserveBatch}
		}, "route " + reserveBatch + " reaches internal methods: " + reserveBatch},
		{"a route per service prefix", true, func(t *testing.T, config map[string]any) {
			route(t, config, reserve)["match"] = map[string]any{"prefix": "/flashsale.inventory.v1.InventoryService/"}
		}, "reaches internal methods: /flashsale.inventory.v1.InventoryService/Confirm"},
		{"a regex route", true, func(t *testing.T, config map[string]any) {
			route(t, config, reserve)["match"] = map[string]any{"safe_regex": map[string]any{"regex": "/flashsale\\.order\\.v1\\.OrderService/.*"}}
		}, "reaches internal methods: /flashsale.order.v1.OrderService/ClaimPayment"},
		{"a route to a method outside proto", true, func(t *testing.T, config map[string]any) {
			route(t, config, reserve)["match"] = map[string]any{"path": "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"}
		}, "is not exactly one public method"},
		{"allow_missing", true, func(t *testing.T, config map[string]any) {
			jwtRule(t, config)["requires"] = map[string]any{"requires_any": map[string]any{"requirements": []any{
				map[string]any{"provider_name": "mesh"}, map[string]any{"allow_missing": map[string]any{}},
			}}}
		}, "rule 0 allows a missing token (allow_missing) for " + reserve},
		{"allow_missing_or_failed", true, func(t *testing.T, config map[string]any) {
			jwtRule(t, config)["requires"] = map[string]any{"allow_missing_or_failed": map[string]any{}}
		}, "allows a missing token"},
		{"a rule that exempts a route", true, func(t *testing.T, config map[string]any) {
			jwt := filter(t, config, "envoy.filters.http.jwt_authn")
			exempt := map[string]any{"match": map[string]any{"prefix": "/flashsale.payment.v1.PaymentService/"}}
			jwt["rules"] = append([]any{exempt}, jwt["rules"].([]any)...)
		}, "rule 0 requires no token for /flashsale.payment.v1.PaymentService/Pay"},
		{"rules that cover only the JSON paths", true, func(t *testing.T, config map[string]any) {
			jwtRule(t, config)["match"] = map[string]any{"prefix": "/v1/"}
		}, "no rule requires a token for " + reserve},
		{"a route that disables the JWT filter", true, func(t *testing.T, config map[string]any) {
			route(t, config, reserve)["typed_per_filter_config"] = map[string]any{"envoy.filters.http.jwt_authn": map[string]any{
				"@type": "type.googleapis.com/envoy.extensions.filters.http.jwt_authn.v3.PerRouteConfig", "disabled": true,
			}}
		}, "route " + reserve + " disables jwt_authn"},
		{"no JWT filter", true, func(t *testing.T, config map[string]any) {
			removeFilter(t, config, "envoy.filters.http.jwt_authn")
		}, "no jwt_authn filter"},
		{"client identity headers kept", true, func(t *testing.T, config map[string]any) {
			removeFilter(t, config, "envoy.filters.http.header_mutation")
		}, "a client-sent x-user-id is not removed"},
		{"a plaintext upstream", true, func(t *testing.T, config map[string]any) {
			delete(cluster(t, config, "inventory"), "transport_socket")
		}, `cluster "inventory": upstream is plaintext with mTLS on`},
		{"another workload's SAN", true, func(t *testing.T, config map[string]any) {
			san(t, config, "order")["matcher"] = map[string]any{"exact": "spiffe://flash-sale.local/ns/local/sa/flash-sale-inventory"}
		}, `cluster "order": accepts a certificate by`},
		{"any mesh identity", true, func(t *testing.T, config map[string]any) {
			san(t, config, "order")["matcher"] = map[string]any{"prefix": "spiffe://flash-sale.local/"}
		}, `cluster "order": does not pin the service's SPIFFE ID`},
		{"no client certificate", true, func(t *testing.T, config map[string]any) {
			delete(tlsContext(t, config, "payment"), "tls_certificate_sds_secret_configs")
		}, `cluster "payment": presents no client certificate`},
		{"an SDS name its file lacks", true, func(t *testing.T, config map[string]any) {
			tlsContext(t, config, "payment")["tls_certificate_sds_secret_configs"].([]any)[0].(map[string]any)["name"] = "other"
		}, `sds-certificate.yaml holds secret "envoy-certificate", not "other"`},
		{"TLS upstreams with mTLS off", false, func(*testing.T, map[string]any) {}, `upstream TLS with mTLS off`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var config map[string]any
			if err := yaml.Unmarshal([]byte(read(t, filepath.Join(generatedOn, "envoy.yaml"))), &config); err != nil {
				t.Fatal(err)
			}
			tc.change(t, config)
			changed, err := json.Marshal(config)
			if err != nil {
				t.Fatal(err)
			}
			expectProblem(t, variant(t, string(changed)), tc.mtls, tc.want)
		})
	}
}

func expectProblem(t *testing.T, path string, mtls bool, want string) {
	t.Helper()
	problems, err := check(path, descriptor, mtls)
	found := err != nil && strings.Contains(err.Error(), want)
	for _, problem := range problems {
		found = found || strings.Contains(problem, want)
	}
	if !found {
		t.Fatalf("want a problem containing %q, got err=%v problems=%v", want, err, problems)
	}
}

// variant writes a changed envoy.yaml beside copies of the generated SDS files, as the chart mounts them.
func variant(t *testing.T, config string) string {
	t.Helper()
	dir := t.TempDir()
	sds, err := filepath.Glob(filepath.Join(generatedOn, "sds-*.yaml"))
	if err != nil || len(sds) == 0 {
		t.Fatalf("no generated SDS files in %s (err=%v)", generatedOn, err)
	}
	for _, file := range sds {
		write(t, filepath.Join(dir, filepath.Base(file)), read(t, file))
	}
	write(t, filepath.Join(dir, "envoy.yaml"), config)
	return filepath.Join(dir, "envoy.yaml")
}

func read(t *testing.T, path string) string {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

// dig walks a decoded YAML document by map keys (string) and list indices (int).
func dig(t *testing.T, node any, path ...any) any {
	t.Helper()
	for _, step := range path {
		switch key := step.(type) {
		case string:
			node = node.(map[string]any)[key]
		case int:
			node = node.([]any)[key]
		}
		if node == nil {
			t.Fatalf("the generated config has nothing at %v; update this test", path)
		}
	}
	return node
}

func manager(t *testing.T, config map[string]any) map[string]any {
	return dig(t, config, "static_resources", "listeners", 0, "filter_chains", 0, "filters", 0, "typed_config").(map[string]any)
}

func route(t *testing.T, config map[string]any, path string) map[string]any {
	for _, r := range dig(t, manager(t, config), "route_config", "virtual_hosts", 0, "routes").([]any) {
		if r.(map[string]any)["match"].(map[string]any)["path"] == path {
			return r.(map[string]any)
		}
	}
	t.Fatalf("the generated config has no route %s", path)
	return nil
}

func filter(t *testing.T, config map[string]any, name string) map[string]any {
	for _, f := range dig(t, manager(t, config), "http_filters").([]any) {
		if f.(map[string]any)["name"] == name {
			return f.(map[string]any)["typed_config"].(map[string]any)
		}
	}
	t.Fatalf("the generated config has no filter %s", name)
	return nil
}

func removeFilter(t *testing.T, config map[string]any, name string) {
	filters := dig(t, manager(t, config), "http_filters").([]any)
	kept := []any{}
	for _, f := range filters {
		if f.(map[string]any)["name"] != name {
			kept = append(kept, f)
		}
	}
	if len(kept) == len(filters) {
		t.Fatalf("the generated config has no filter %s", name)
	}
	manager(t, config)["http_filters"] = kept
}

func jwtRule(t *testing.T, config map[string]any) map[string]any {
	return dig(t, filter(t, config, "envoy.filters.http.jwt_authn"), "rules", 0).(map[string]any)
}

func cluster(t *testing.T, config map[string]any, name string) map[string]any {
	for _, c := range dig(t, config, "static_resources", "clusters").([]any) {
		if c.(map[string]any)["name"] == name {
			return c.(map[string]any)
		}
	}
	t.Fatalf("the generated config has no cluster %s", name)
	return nil
}

func tlsContext(t *testing.T, config map[string]any, name string) map[string]any {
	return dig(t, cluster(t, config, name), "transport_socket", "typed_config", "common_tls_context").(map[string]any)
}

func san(t *testing.T, config map[string]any, name string) map[string]any {
	return dig(t, tlsContext(t, config, name), "combined_validation_context", "default_validation_context",
		"match_typed_subject_alt_names", 0).(map[string]any)
}
