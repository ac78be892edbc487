package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	routev3 "github.com/envoyproxy/go-control-plane/envoy/config/route/v3"
	headermutationv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	jwtv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/jwt_authn/v3"
	hcmv3 "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
	annotations "google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// The headers services read the caller from: only a verified token may set them, never the client.
var identityHeaders = []string{"x-user-id", "x-user-roles"}

// checkPolicy checks every HTTP connection manager of the static listeners.
func (c *checker) checkPolicy(bootstrap *bootstrapv3.Bootstrap) {
	for _, listener := range bootstrap.GetStaticResources().GetListeners() {
		for _, chain := range listener.GetFilterChains() {
			for _, filter := range chain.GetFilters() {
				manager := &hcmv3.HttpConnectionManager{}
				if filter.GetTypedConfig().MessageIs(manager) && filter.GetTypedConfig().UnmarshalTo(manager) == nil {
					c.checkManager(fmt.Sprintf("listener %q", listener.GetName()), manager)
				}
			}
		}
	}
}

func (c *checker) checkManager(where string, manager *hcmv3.HttpConnectionManager) {
	if manager.GetRouteConfig() == nil {
		c.problem("%s: routes must be static (route_config) to be checked", where)
		return
	}
	var forwarding []*routev3.Route
	disabled := map[*routev3.Route]bool{}
	for _, host := range manager.GetRouteConfig().GetVirtualHosts() {
		hostDisabled := jwtDisabled(host.GetTypedPerFilterConfig())
		for _, route := range host.GetRoutes() {
			if route.GetRoute() == nil {
				continue // a redirect or a direct response forwards nothing
			}
			forwarding = append(forwarding, route)
			disabled[route] = hostDisabled || jwtDisabled(route.GetTypedPerFilterConfig())
			c.checkRouteTarget(route.GetMatch())
		}
	}

	filters := map[string]int{}
	var jwt *jwtv3.JwtAuthentication
	stripped := map[string]bool{}
	for i, filter := range manager.GetHttpFilters() {
		switch inner := unpack(filter.GetTypedConfig()).(type) {
		case *jwtv3.JwtAuthentication:
			filters["jwt"], jwt = i, inner
		case *headermutationv3.HeaderMutation:
			if jwt == nil {
				for _, mutation := range inner.GetMutations().GetRequestMutations() {
					stripped[strings.ToLower(mutation.GetRemove())] = true
				}
			}
		default:
			if filter.GetName() == "envoy.filters.http.grpc_json_transcoder" || filter.GetName() == "envoy.filters.http.router" {
				filters[filter.GetName()] = i
			}
		}
	}
	if jwt == nil {
		c.problem("%s: no jwt_authn filter: every route is reachable without a token", where)
		return
	}
	for name, at := range filters {
		if name != "jwt" && at < filters["jwt"] {
			c.problem("%s: jwt_authn must run before %s", where, name)
		}
	}
	for _, header := range identityHeaders {
		if !stripped[header] {
			c.problem("%s: a client-sent %s is not removed before jwt_authn, so services would trust it", where, header)
		}
	}

	for _, route := range forwarding {
		if disabled[route] {
			c.problem("route %s disables jwt_authn: it is reachable without a token", describe(route.GetMatch()))
		}
	}
	for _, path := range c.samplePaths(forwarding) {
		if complaint := tokenRequired(jwt, path); complaint != "" {
			c.problem("jwt_authn: %s", complaint)
		}
	}
}

// checkRouteTarget: a forwarding route must name exactly one public method. gRPC clients choose the path, so a route
// that matches more than that hands them whatever else it matches.
func (c *checker) checkRouteTarget(match *routev3.RouteMatch) {
	if exact, ok := match.GetPathSpecifier().(*routev3.RouteMatch_Path); ok && c.methods[exact.Path].public &&
		(match.GetCaseSensitive() == nil || match.GetCaseSensitive().GetValue()) {
		return
	}
	var internal []string
	for path, m := range c.methods {
		if matches, _ := pathMatches(match, path); matches && !m.public {
			internal = append(internal, path)
		}
	}
	sort.Strings(internal)
	if len(internal) > 0 {
		c.problem("route %s reaches internal methods: %s", describe(match), strings.Join(internal, ", "))
	} else {
		c.problem("route %s is not exactly one public method (the exact path of an RPC with google.api.http)", describe(match))
	}
}

// samplePaths are the paths a request can carry when the JWT filter sees it: each route's own path (what a gRPC
// client sends) and each public method's HTTP path (what a JSON client sends, before transcoding rewrites it).
func (c *checker) samplePaths(routes []*routev3.Route) []string {
	seen := map[string]bool{}
	for _, route := range routes {
		match := route.GetMatch()
		switch {
		case match.GetPath() != "":
			seen[match.GetPath()] = true
		case match.GetPrefix() != "":
			seen[match.GetPrefix()+"x"] = true
		case match.GetPathSeparatedPrefix() != "":
			seen[match.GetPathSeparatedPrefix()+"/x"] = true
		}
	}
	for _, m := range c.methods {
		for _, template := range m.httpPaths {
			seen[sampleOf(template)] = true
		}
	}
	paths := make([]string, 0, len(seen))
	for path := range seen {
		paths = append(paths, path)
	}
	sort.Strings(paths)
	return paths
}

// tokenRequired says why a request to path could get past jwt_authn without a valid token, or "" if it cannot.
// Rules apply in order, the first match deciding; a rule with conditions the client controls (headers, query) may
// or may not match, so it must be safe itself and the next rules are checked too.
func tokenRequired(jwt *jwtv3.JwtAuthentication, path string) string {
	for i, rule := range jwt.GetRules() {
		matches, certain := pathMatches(rule.GetMatch(), path)
		if !matches {
			continue
		}
		requirement := rule.GetRequires()
		if name := rule.GetRequirementName(); name != "" {
			requirement = jwt.GetRequirementMap()[name]
		}
		switch {
		case requirement == nil:
			return fmt.Sprintf("rule %d requires no token for %s", i, path)
		case allowsMissing(requirement):
			return fmt.Sprintf("rule %d allows a missing token (allow_missing) for %s", i, path)
		case !demandsToken(requirement):
			return fmt.Sprintf("rule %d requires no valid token for %s", i, path)
		}
		if certain && !conditional(rule.GetMatch()) {
			return ""
		}
	}
	return fmt.Sprintf("no rule requires a token for %s", path)
}

func allowsMissing(requirement *jwtv3.JwtRequirement) bool {
	switch {
	case requirement.GetAllowMissing() != nil, requirement.GetAllowMissingOrFailed() != nil:
		return true
	case requirement.GetRequiresAny() != nil:
		return anyRequirement(requirement.GetRequiresAny().GetRequirements(), allowsMissing)
	case requirement.GetRequiresAll() != nil:
		return anyRequirement(requirement.GetRequiresAll().GetRequirements(), allowsMissing)
	}
	return false
}

// demandsToken: the requirement passes only with a token verified by a provider.
func demandsToken(requirement *jwtv3.JwtRequirement) bool {
	switch {
	case requirement.GetProviderName() != "", requirement.GetProviderAndAudiences() != nil:
		return true
	case requirement.GetRequiresAny() != nil:
		list := requirement.GetRequiresAny().GetRequirements()
		return len(list) > 0 && !anyRequirement(list, func(r *jwtv3.JwtRequirement) bool { return !demandsToken(r) })
	case requirement.GetRequiresAll() != nil:
		return anyRequirement(requirement.GetRequiresAll().GetRequirements(), demandsToken)
	}
	return false // extract_only_without_validation, or nothing
}

func anyRequirement(list []*jwtv3.JwtRequirement, test func(*jwtv3.JwtRequirement) bool) bool {
	for _, requirement := range list {
		if test(requirement) {
			return true
		}
	}
	return false
}

// pathMatches reports whether match's path condition accepts path; certain is false when this check cannot tell
// (a path-template extension), and then matches is true.
func pathMatches(match *routev3.RouteMatch, path string) (matches, certain bool) {
	fold := func(s string) string { return s }
	if match.GetCaseSensitive() != nil && !match.GetCaseSensitive().GetValue() {
		fold = strings.ToLower
	}
	switch spec := match.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		return strings.HasPrefix(fold(path), fold(spec.Prefix)), true
	case *routev3.RouteMatch_Path:
		return fold(path) == fold(spec.Path), true
	case *routev3.RouteMatch_PathSeparatedPrefix:
		return path == spec.PathSeparatedPrefix || strings.HasPrefix(path, spec.PathSeparatedPrefix+"/"), true
	case *routev3.RouteMatch_SafeRegex:
		re, err := regexp.Compile("^(?:" + spec.SafeRegex.GetRegex() + ")$")
		if err != nil {
			return true, false
		}
		return re.MatchString(path), true
	case *routev3.RouteMatch_ConnectMatcher_:
		return false, true // CONNECT requests only
	}
	return true, false
}

// conditional: the match also depends on something besides the path, which a client may or may not send.
func conditional(match *routev3.RouteMatch) bool {
	return len(match.GetHeaders()) > 0 || len(match.GetQueryParameters()) > 0 || len(match.GetCookies()) > 0 ||
		match.GetRuntimeFraction() != nil || match.GetGrpc() != nil || match.GetTlsContext() != nil ||
		len(match.GetDynamicMetadata()) > 0 || len(match.GetFilterState()) > 0
}

func jwtDisabled(perFilter map[string]*anypb.Any) bool {
	for _, config := range perFilter {
		if perRoute, ok := unpack(config).(*jwtv3.PerRouteConfig); ok && perRoute.GetDisabled() {
			return true
		}
	}
	return false
}

func unpack(packed *anypb.Any) proto.Message {
	if packed == nil {
		return nil
	}
	inner, err := packed.UnmarshalNew()
	if err != nil {
		return nil // reported by walk
	}
	return inner
}

func describe(match *routev3.RouteMatch) string {
	switch spec := match.GetPathSpecifier().(type) {
	case *routev3.RouteMatch_Prefix:
		return "prefix " + spec.Prefix
	case *routev3.RouteMatch_Path:
		return spec.Path
	case *routev3.RouteMatch_PathSeparatedPrefix:
		return "path_separated_prefix " + spec.PathSeparatedPrefix
	case *routev3.RouteMatch_SafeRegex:
		return "safe_regex " + spec.SafeRegex.GetRegex()
	}
	return fmt.Sprintf("%v", match)
}

// httpPaths lists an annotation's path templates, additional bindings included.
func httpPaths(rule *annotations.HttpRule) []string {
	paths := []string{rule.GetGet() + rule.GetPut() + rule.GetPost() + rule.GetDelete() + rule.GetPatch() + rule.GetCustom().GetPath()}
	for _, binding := range rule.GetAdditionalBindings() {
		paths = append(paths, httpPaths(binding)...)
	}
	return paths
}

var templateVariable = regexp.MustCompile(`\{[^}]*\}|\*\*?`)

// sampleOf turns a path template into one path it matches: /v1/orders/{order_id} -> /v1/orders/x.
func sampleOf(template string) string {
	return templateVariable.ReplaceAllString(template, "x")
}
