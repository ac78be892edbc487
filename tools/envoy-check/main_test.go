package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The configuration scripts/envoy-config.ts generated (scripts/check-envoy.sh writes it before running the tests).
const (
	generated  = "../../.cache/envoy/envoy.yaml"
	descriptor = "../../packages/contracts/descriptor/flashsale.binpb"
)

func TestGeneratedConfigIsValid(t *testing.T) {
	problems, err := check(generated, descriptor)
	if err != nil || len(problems) > 0 {
		t.Fatalf("want a valid config, got err=%v problems=%v", err, problems)
	}
}

// Each broken variant must be caught, with a message naming what is wrong: a check that passes everything proves
// nothing.
func TestBrokenConfigsAreRejected(t *testing.T) {
	original, err := os.ReadFile(generated)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, from, to, want string }{
		{"unknown field", "stat_prefix: flashsale", "stat_prefx: flashsale", `unknown field "stat_prefx"`},
		{"unknown filter type", "grpc_json_transcoder.v3.GrpcJsonTranscoder", "grpc_json_transcoder.v3.Transcoder", `unable to resolve "type.googleapis.com/envoy.extensions.filters.http.grpc_json_transcoder.v3.Transcoder"`},
		{"port out of range", "port_value: 8080", "port_value: 80800", "PortValue: value must be less than or equal to 65535"},
		{"negative timeout", "connect_timeout: 1s", "connect_timeout: -1s", "ConnectTimeout: value must be greater than 0s"},
		{"route to a missing cluster", "cluster: payment\n", "cluster: payments\n", `route to undefined cluster "payments"`},
		{"service not in proto", "- flashsale.order.v1.OrderService\n", "- flashsale.order.v1.OrdersService\n", "is not in the descriptor set"},
		{"rule names no provider", "provider_name: mesh", "provider_name: nobody", `undefined provider "nobody"`},
		{"empty header name", "header_name: x-user-id", `header_name: ""`, "HeaderName: value length must be at least 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if !strings.Contains(string(original), tc.from) {
				t.Fatalf("the generated config no longer contains %q; update this case", tc.from)
			}
			path := filepath.Join(t.TempDir(), "envoy.yaml")
			if err := os.WriteFile(path, []byte(strings.Replace(string(original), tc.from, tc.to, 1)), 0o600); err != nil {
				t.Fatal(err)
			}
			problems, err := check(path, descriptor)
			found := err != nil && strings.Contains(err.Error(), tc.want)
			for _, problem := range problems {
				found = found || strings.Contains(problem, tc.want)
			}
			if !found {
				t.Fatalf("want a problem containing %q, got err=%v problems=%v", tc.want, err, problems)
			}
		})
	}
}
