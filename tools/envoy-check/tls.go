package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"
)

// checkUpstreamTLS: with mTLS on, every cluster (named after the workload it reaches) presents a client certificate,
// trusts a CA, and accepts only the certificate that names that workload's SPIFFE ID. With mTLS off the services
// serve plaintext, so a TLS upstream could never connect.
func (c *checker) checkUpstreamTLS(bootstrap *bootstrapv3.Bootstrap, mtls bool) {
	for _, cluster := range bootstrap.GetStaticResources().GetClusters() {
		name := cluster.GetName()
		context, _ := unpack(cluster.GetTransportSocket().GetTypedConfig()).(*tlsv3.UpstreamTlsContext)
		switch {
		case !mtls && cluster.GetTransportSocket() != nil:
			c.problem("cluster %q: upstream TLS with mTLS off (the services serve plaintext then)", name)
		case mtls && context == nil:
			c.problem("cluster %q: upstream is plaintext with mTLS on", name)
		case mtls:
			c.checkClientContext(name, context.GetCommonTlsContext())
		}
	}
}

func (c *checker) checkClientContext(cluster string, common *tlsv3.CommonTlsContext) {
	certificate := len(common.GetTlsCertificates()) > 0
	for _, config := range common.GetTlsCertificateSdsSecretConfigs() {
		if secret := c.sdsSecret(cluster, config); secret != nil && secret.GetTlsCertificate() != nil {
			certificate = true
		}
	}
	if !certificate {
		c.problem("cluster %q: presents no client certificate", cluster)
	}

	// The validation context may be inline, from SDS, or both combined (SDS for the CA, inline for the SAN).
	contexts := []*tlsv3.CertificateValidationContext{common.GetValidationContext()}
	sdsConfigs := []*tlsv3.SdsSecretConfig{common.GetValidationContextSdsSecretConfig()}
	if combined := common.GetCombinedValidationContext(); combined != nil {
		contexts = append(contexts, combined.GetDefaultValidationContext())
		sdsConfigs = append(sdsConfigs, combined.GetValidationContextSdsSecretConfig())
	}
	for _, config := range sdsConfigs {
		if config != nil {
			contexts = append(contexts, c.sdsSecret(cluster, config).GetValidationContext())
		}
	}
	trusted, pinned := false, false
	for _, context := range contexts {
		if context == nil {
			continue
		}
		trusted = trusted || context.GetTrustedCa() != nil
		if context.GetTrustChainVerification() == tlsv3.CertificateValidationContext_ACCEPT_UNTRUSTED {
			c.problem("cluster %q: accepts untrusted certificates", cluster)
		}
		if len(context.GetMatchSubjectAltNames()) > 0 {
			c.problem("cluster %q: match_subject_alt_names accepts any SAN type; use match_typed_subject_alt_names", cluster)
		}
		// SAN matchers are alternatives: each one must name this workload, or it lets another identity in.
		for _, san := range context.GetMatchTypedSubjectAltNames() {
			exact := san.GetMatcher().GetExact()
			if san.GetSanType() == tlsv3.SubjectAltNameMatcher_URI && strings.HasPrefix(exact, "spiffe://") &&
				strings.Contains(exact, "/sa/") && strings.HasSuffix(exact, cluster) {
				pinned = true
			} else {
				c.problem("cluster %q: accepts a certificate by %v, not only the %s workload's SPIFFE ID", cluster, san, cluster)
			}
		}
	}
	if !trusted {
		c.problem("cluster %q: trusts no CA, so it cannot verify the service's certificate", cluster)
	}
	if !pinned {
		c.problem("cluster %q: does not pin the service's SPIFFE ID (an exact URI SAN ending in %q)", cluster, cluster)
	}
}

// sdsSecret reads the one Secret an SDS file holds, from beside the configuration (where the chart mounts both),
// validating it like the rest. It returns nil, with a problem, when that is not possible.
func (c *checker) sdsSecret(cluster string, config *tlsv3.SdsSecretConfig) *tlsv3.Secret {
	source := config.GetSdsConfig().GetPathConfigSource().GetPath()
	if source == "" {
		source = config.GetSdsConfig().GetPath() // the deprecated form, still accepted by Envoy
	}
	if source == "" {
		c.problem("cluster %q: SDS secret %q does not come from a file, so it cannot be checked", cluster, config.GetName())
		return nil
	}
	file := filepath.Join(c.dir, filepath.Base(source))
	secret, read := c.secrets[file]
	if !read {
		secret = c.readSecret(file)
		c.secrets[file] = secret
	}
	if secret != nil && secret.GetName() != config.GetName() {
		c.problem("cluster %q: %s holds secret %q, not %q", cluster, filepath.Base(source), secret.GetName(), config.GetName())
		return nil
	}
	return secret
}

// readSecret reads an SDS file: a DiscoveryResponse holding one Secret. (Its fields are decoded here rather than
// with the discovery package, which would pull gRPC into this tool.)
func (c *checker) readSecret(file string) *tlsv3.Secret {
	var response struct {
		VersionInfo string            `json:"version_info"`
		TypeURL     string            `json:"type_url"`
		Resources   []json.RawMessage `json:"resources"`
	}
	raw, err := os.ReadFile(file)
	if err == nil {
		raw, err = yaml.YAMLToJSON(raw)
	}
	if err == nil {
		decoder := json.NewDecoder(bytes.NewReader(raw))
		decoder.DisallowUnknownFields()
		err = decoder.Decode(&response)
	}
	if err != nil {
		c.problem("SDS file %s: %v", filepath.Base(file), err)
		return nil
	}
	// Envoy takes exactly one secret from a file.
	if len(response.Resources) != 1 {
		c.problem("SDS file %s: holds %d resources, Envoy takes exactly one", filepath.Base(file), len(response.Resources))
		return nil
	}
	packed := &anypb.Any{}
	if err := protojson.Unmarshal(response.Resources[0], packed); err != nil {
		c.problem("SDS file %s: %v", filepath.Base(file), err)
		return nil
	}
	secret, ok := unpack(packed).(*tlsv3.Secret)
	if !ok {
		c.problem("SDS file %s: its resource is not a tls.v3.Secret", filepath.Base(file))
		return nil
	}
	c.walk(fmt.Sprintf("sds(%s)", filepath.Base(file)), secret, true)
	return secret
}
