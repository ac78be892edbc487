package main

// YAML to Starlark and back, for decode_yaml(_stream)/encode_yaml(_stream), keeping the order of mapping keys; and
// Kubernetes objects out of a YAML stream, for k8s_yaml().

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"

	"go.starlark.net/starlark"
	"go.yaml.in/yaml/v3"
)

func yamlDocuments(text string) ([]*yaml.Node, error) {
	dec := yaml.NewDecoder(strings.NewReader(text))
	var docs []*yaml.Node
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		docs = append(docs, &doc)
	}
}

// yamlToStarlark decodes every document of a stream; an empty document (`---` twice) becomes None, as in Tilt.
func yamlToStarlark(text string) ([]starlark.Value, error) {
	docs, err := yamlDocuments(text)
	if err != nil {
		return nil, err
	}
	out := make([]starlark.Value, 0, len(docs))
	for _, doc := range docs {
		if len(doc.Content) == 0 {
			out = append(out, starlark.None)
			continue
		}
		v, err := nodeToStarlark(doc.Content[0])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func nodeToStarlark(n *yaml.Node) (starlark.Value, error) {
	switch n.Kind {
	case yaml.AliasNode:
		return nodeToStarlark(n.Alias)
	case yaml.MappingNode:
		d := starlark.NewDict(len(n.Content) / 2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, err := nodeToStarlark(n.Content[i])
			if err != nil {
				return nil, err
			}
			v, err := nodeToStarlark(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			if err := d.SetKey(k, v); err != nil {
				return nil, err
			}
		}
		return d, nil
	case yaml.SequenceNode:
		items := make([]starlark.Value, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeToStarlark(c)
			if err != nil {
				return nil, err
			}
			items = append(items, v)
		}
		return starlark.NewList(items), nil
	case yaml.ScalarNode:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, err
		}
		switch v := v.(type) {
		case nil:
			return starlark.None, nil
		case bool:
			return starlark.Bool(v), nil
		case int:
			return starlark.MakeInt(v), nil
		case int64:
			return starlark.MakeInt64(v), nil
		case uint64:
			return starlark.MakeUint64(v), nil
		case *big.Int:
			return starlark.MakeBigInt(v), nil
		case float64:
			return starlark.Float(v), nil
		case string:
			return starlark.String(v), nil
		default:
			return starlark.String(n.Value), nil
		}
	}
	return nil, fmt.Errorf("unsupported YAML node at line %d", n.Line)
}

func starlarkToNode(v starlark.Value) (*yaml.Node, error) {
	switch v := v.(type) {
	case starlark.NoneType:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}, nil
	case starlark.Bool:
		n := &yaml.Node{}
		return n, n.Encode(bool(v))
	case starlark.Int:
		n := &yaml.Node{}
		if i, ok := v.Int64(); ok {
			return n, n.Encode(i)
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!int", Value: v.String()}, nil
	case starlark.Float:
		n := &yaml.Node{}
		return n, n.Encode(float64(v))
	case starlark.String:
		n := &yaml.Node{}
		return n, n.Encode(string(v))
	case blob:
		n := &yaml.Node{}
		return n, n.Encode(v.text)
	case *starlark.Dict:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		for _, item := range v.Items() {
			k, ok := item[0].(starlark.String)
			if !ok {
				return nil, fmt.Errorf("only string keys can be encoded, got %s", item[0].Type())
			}
			kn := &yaml.Node{}
			if err := kn.Encode(string(k)); err != nil {
				return nil, err
			}
			vn, err := starlarkToNode(item[1])
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, kn, vn)
		}
		return n, nil
	case starlark.Indexable:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for i := 0; i < v.Len(); i++ {
			c, err := starlarkToNode(v.Index(i))
			if err != nil {
				return nil, err
			}
			n.Content = append(n.Content, c)
		}
		return n, nil
	}
	return nil, fmt.Errorf("cannot encode a %s as YAML", v.Type())
}

func starlarkToYAML(values []starlark.Value) (string, error) {
	var buf bytes.Buffer
	for i, v := range values {
		n, err := starlarkToNode(v)
		if err != nil {
			return "", err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		var one bytes.Buffer
		enc := yaml.NewEncoder(&one)
		enc.SetIndent(2)
		if err := enc.Encode(n); err != nil {
			return "", err
		}
		_ = enc.Close()
		buf.Write(one.Bytes())
	}
	return buf.String(), nil
}

// k8sObject is one object of a YAML stream, as plain Go values.
type k8sObject map[string]any

func parseObjects(text string) ([]k8sObject, error) {
	dec := yaml.NewDecoder(strings.NewReader(text))
	var out []k8sObject
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("YAML: %v", err)
		}
		if obj == nil {
			continue
		}
		if kind, _ := obj["kind"].(string); kind == "" {
			return nil, fmt.Errorf("a YAML document without a kind: %v", obj)
		}
		out = append(out, k8sObject(obj))
	}
}

func (o k8sObject) kind() string { s, _ := o["kind"].(string); return s }

func (o k8sObject) name() string {
	meta, _ := o["metadata"].(map[string]any)
	s, _ := meta["name"].(string)
	return s
}

func (o k8sObject) namespace() string {
	meta, _ := o["metadata"].(map[string]any)
	s, _ := meta["namespace"].(string)
	return s
}

// id names an object as Tilt tells objects apart: API group, kind, namespace (as given) and name.
func (o k8sObject) id() string {
	group, _ := o["apiVersion"].(string)
	if i := strings.LastIndex(group, "/"); i >= 0 {
		group = group[:i]
	} else {
		group = "" // the core group: "v1"
	}
	id := o.kind()
	if group != "" {
		id += "." + group
	}
	if ns := o.namespace(); ns != "" {
		id += " " + ns + "/" + o.name()
	} else {
		id += " " + o.name()
	}
	return id
}

func dig(v any, path ...string) any {
	for _, p := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[p]
	}
	return v
}

// workloadKinds are the kinds Tilt makes a resource of by themselves, named after the object.
var workloadKinds = map[string]bool{"Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true,
	"Job": true, "CronJob": true, "Pod": true, "ReplicationController": true}

// podSpec is the pod template's spec of a workload, or nil.
func (o k8sObject) podSpec() map[string]any {
	var spec any
	switch o.kind() {
	case "Pod":
		spec = o["spec"]
	case "CronJob":
		spec = dig(map[string]any(o), "spec", "jobTemplate", "spec", "template", "spec")
	default:
		spec = dig(map[string]any(o), "spec", "template", "spec")
	}
	m, _ := spec.(map[string]any)
	return m
}

type container struct {
	name, image  string
	ports        []int
	readOnlyRoot bool
}

func (o k8sObject) containers(includeInit bool) []container {
	spec := o.podSpec()
	keys := []string{"containers"}
	if includeInit {
		keys = append(keys, "initContainers")
	}
	var out []container
	for _, key := range keys {
		list, _ := spec[key].([]any)
		for _, item := range list {
			m, _ := item.(map[string]any)
			c := container{}
			c.name, _ = m["name"].(string)
			c.image, _ = m["image"].(string)
			c.readOnlyRoot, _ = dig(m, "securityContext", "readOnlyRootFilesystem").(bool)
			ports, _ := m["ports"].([]any)
			for _, p := range ports {
				if n, ok := dig(p, "containerPort").(int); ok {
					c.ports = append(c.ports, n)
				}
			}
			out = append(out, c)
		}
	}
	return out
}
