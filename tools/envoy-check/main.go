// Command envoy-check proves that an Envoy bootstrap configuration is one Envoy accepts, without running Envoy: it
// parses the YAML into Envoy's own API types (go-control-plane), rejecting unknown fields; unpacks every
// typed_config into its message type; runs the validation rules Envoy generates for every message
// (protoc-gen-validate, ValidateAll); and checks what binds the pieces together: every route names a defined
// cluster, every JWT rule a defined provider, and the gRPC-JSON transcoder's services exist, with HTTP
// annotations, in the descriptor set the transcoder will load.
//
// It then checks the front's security policy (policy.go, tls.go): only public methods (those with a google.api.http
// annotation) are routable, no protected route lets a request through without a valid token, the client's own
// identity headers are removed, and with mTLS on every upstream presents Envoy's certificate and pins the service's
// SPIFFE ID. SDS files the configuration names are read from beside it, where the chart mounts them.
//
//	go run . -descriptor ../../packages/contracts/descriptor/flashsale.binpb [-mtls on|off] envoy.yaml
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/grpc_json_transcoder/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/health_check/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/lua/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	tlsv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/transport_sockets/tls/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
	annotations "google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/known/anypb"
	"sigs.k8s.io/yaml"
)

type validator interface{ ValidateAll() error }

func main() {
	descriptor := flag.String("descriptor", "", "the FileDescriptorSet the transcoder loads (checked for its services)")
	mtls := flag.String("mtls", "on", "on: every upstream must use mTLS; off: the user's own mesh encrypts, upstreams are plaintext")
	flag.Parse()
	if flag.NArg() != 1 || *descriptor == "" || (*mtls != "on" && *mtls != "off") {
		fmt.Fprintln(os.Stderr, "usage: envoy-check -descriptor flashsale.binpb [-mtls on|off] envoy.yaml")
		os.Exit(2)
	}
	problems, err := check(flag.Arg(0), *descriptor, *mtls == "on")
	if err != nil {
		fmt.Fprintf(os.Stderr, "envoy-check: %v\n", err)
		os.Exit(1)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "envoy-check: %s is not valid:\n  %s\n", flag.Arg(0), strings.Join(problems, "\n  "))
		os.Exit(1)
	}
	fmt.Printf("envoy-check: %s is valid\n", flag.Arg(0))
}

func check(configPath, descriptorPath string, mtls bool) ([]string, error) {
	raw, err := os.ReadFile(configPath)
	if err != nil {
		return nil, err
	}
	asJSON, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("%s is not YAML: %w", configPath, err)
	}
	bootstrap := &bootstrapv3.Bootstrap{}
	if err := protojson.Unmarshal(asJSON, bootstrap); err != nil {
		return nil, fmt.Errorf("%s does not parse as an Envoy v3 Bootstrap: %w", configPath, err)
	}
	c := &checker{
		clusters: map[string]bool{},
		services: map[string]bool{},
		methods:  map[string]method{},
		dir:      filepath.Dir(configPath),
		secrets:  map[string]*tlsv3.Secret{},
	}
	for _, cluster := range bootstrap.GetStaticResources().GetClusters() {
		c.clusters[cluster.GetName()] = true
	}
	if err := c.loadServices(descriptorPath); err != nil {
		return nil, err
	}
	c.walk("bootstrap", bootstrap, true)
	if !c.sawTranscoder {
		c.problems = append(c.problems, "no grpc_json_transcoder filter")
	}
	c.checkPolicy(bootstrap)
	c.checkUpstreamTLS(bootstrap, mtls)
	sort.Strings(c.problems)
	return c.problems, nil
}

type checker struct {
	problems      []string
	clusters      map[string]bool
	services      map[string]bool   // service name -> has google.api.http annotations
	methods       map[string]method // gRPC path (/service/Method) -> the method
	sawTranscoder bool
	dir           string                   // the configuration's directory, where its SDS files sit
	secrets       map[string]*tlsv3.Secret // SDS files already read, by path
}

// method is one RPC of the descriptor set: public when it carries a google.api.http annotation.
type method struct {
	public    bool
	httpPaths []string // the annotation's path templates, additional bindings included
}

func (c *checker) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// walk checks msg and everything inside it. Envoy's generated ValidateAll covers a message and the messages embedded
// in it, but not what an Any holds: so it runs at the root and again on every message unpacked from an Any.
func (c *checker) walk(path string, msg proto.Message, validate bool) {
	if v, ok := msg.(validator); ok && validate {
		if err := v.ValidateAll(); err != nil {
			c.problems = append(c.problems, fmt.Sprintf("%s: %v", path, err))
		}
	}
	c.inspect(path, msg)
	msg.ProtoReflect().Range(func(field protoreflect.FieldDescriptor, value protoreflect.Value) bool {
		if field.Kind() != protoreflect.MessageKind && field.Kind() != protoreflect.GroupKind {
			return true
		}
		name := path + "." + string(field.Name())
		switch {
		case field.IsList():
			list := value.List()
			for i := 0; i < list.Len(); i++ {
				c.child(fmt.Sprintf("%s[%d]", name, i), list.Get(i).Message().Interface())
			}
		case field.IsMap():
			if field.MapValue().Kind() == protoreflect.MessageKind {
				value.Map().Range(func(key protoreflect.MapKey, entry protoreflect.Value) bool {
					c.child(fmt.Sprintf("%s[%s]", name, key.String()), entry.Message().Interface())
					return true
				})
			}
		default:
			c.child(name, value.Message().Interface())
		}
		return true
	})
}

func (c *checker) child(path string, msg proto.Message) {
	packed, unpack := msg.(*anypb.Any)
	if unpack {
		inner, err := packed.UnmarshalNew()
		if err != nil {
			c.problems = append(c.problems, fmt.Sprintf("%s: %s is not a known Envoy type: %v", path, packed.GetTypeUrl(), err))
			return
		}
		msg = inner
		path = fmt.Sprintf("%s<%s>", path, inner.ProtoReflect().Descriptor().Name())
	}
	c.walk(path, msg, unpack)
}

// inspect checks the references between parts that field validation cannot see.
func (c *checker) inspect(path string, msg proto.Message) {
	reflected := msg.ProtoReflect()
	switch string(reflected.Descriptor().FullName()) {
	case "envoy.config.route.v3.RouteAction":
		if cluster := stringField(reflected, "cluster"); cluster != "" && !c.clusters[cluster] {
			c.problems = append(c.problems, fmt.Sprintf("%s: route to undefined cluster %q", path, cluster))
		}
	case "envoy.extensions.filters.http.jwt_authn.v3.JwtAuthentication":
		providers := reflected.Get(reflected.Descriptor().Fields().ByName("providers")).Map()
		for _, name := range providerNames(reflected) {
			if !providers.Has(protoreflect.ValueOfString(name).MapKey()) {
				c.problems = append(c.problems, fmt.Sprintf("%s: rule names undefined provider %q", path, name))
			}
		}
	case "envoy.extensions.filters.http.grpc_json_transcoder.v3.GrpcJsonTranscoder":
		c.sawTranscoder = true
		list := reflected.Get(reflected.Descriptor().Fields().ByName("services")).List()
		if list.Len() == 0 {
			c.problems = append(c.problems, path+": the transcoder lists no services")
		}
		for i := 0; i < list.Len(); i++ {
			service := list.Get(i).String()
			annotated, known := c.services[service]
			if !known {
				c.problems = append(c.problems, fmt.Sprintf("%s: service %q is not in the descriptor set", path, service))
			} else if !annotated {
				c.problems = append(c.problems, fmt.Sprintf("%s: service %q has no google.api.http annotations", path, service))
			}
		}
	}
}

func stringField(msg protoreflect.Message, name string) string {
	return msg.Get(msg.Descriptor().Fields().ByName(protoreflect.Name(name))).String()
}

// providerNames lists every provider_name under the filter's rules (requires, requires_any, requires_all).
func providerNames(msg protoreflect.Message) []string {
	var names []string
	var visit func(m protoreflect.Message)
	visit = func(m protoreflect.Message) {
		m.Range(func(field protoreflect.FieldDescriptor, value protoreflect.Value) bool {
			switch {
			case field.Name() == "provider_name":
				names = append(names, value.String())
			case field.Name() == "providers":
				// The provider definitions themselves, not references.
			case field.IsList() && field.Kind() == protoreflect.MessageKind:
				for i := 0; i < value.List().Len(); i++ {
					visit(value.List().Get(i).Message())
				}
			case !field.IsMap() && field.Kind() == protoreflect.MessageKind:
				visit(value.Message())
			}
			return true
		})
	}
	visit(msg)
	return names
}

func (c *checker) loadServices(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("descriptor set: %w (run npm run generate)", err)
	}
	set := &descriptorpb.FileDescriptorSet{}
	if err := proto.Unmarshal(raw, set); err != nil {
		return fmt.Errorf("%s is not a FileDescriptorSet: %w", path, err)
	}
	files, err := protodesc.NewFiles(set)
	if err != nil {
		return fmt.Errorf("%s does not link: %w", path, err)
	}
	files.RangeFiles(func(file protoreflect.FileDescriptor) bool {
		services := file.Services()
		for i := 0; i < services.Len(); i++ {
			service := services.Get(i)
			annotated := false
			methods := service.Methods()
			for j := 0; j < methods.Len(); j++ {
				m := method{}
				options, _ := methods.Get(j).Options().(*descriptorpb.MethodOptions)
				if options != nil && proto.HasExtension(options, annotations.E_Http) {
					annotated, m.public = true, true
					m.httpPaths = httpPaths(proto.GetExtension(options, annotations.E_Http).(*annotations.HttpRule))
				}
				c.methods[fmt.Sprintf("/%s/%s", service.FullName(), methods.Get(j).Name())] = m
			}
			c.services[string(service.FullName())] = annotated
		}
		return true
	})
	if len(c.services) == 0 {
		return errors.New("the descriptor set defines no services")
	}
	return nil
}
