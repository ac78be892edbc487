package main

// Just enough of a Dockerfile parser to know its stages (FROM ... AS name), which stages a target needs (its base,
// COPY --from, RUN --mount=from), and which paths of the build context those stages read (COPY/ADD sources and
// RUN --mount=type=bind sources without from=).

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

type stage struct {
	name  string // lower-case, "" when unnamed
	base  string // the FROM image, or a stage name
	args  map[string]string
	reads []string // context paths read by COPY/ADD or bind mounts
	needs []string // stage names or indexes used by COPY --from and RUN --mount=from
	line  int
}

type dockerfile struct {
	stages     []*stage
	globalArgs map[string]string
}

var heredocRe = regexp.MustCompile(`<<-?\s*["']?([A-Za-z0-9_]+)["']?`)

// logicalLines joins continuation lines, drops comments and blank lines, and skips heredoc bodies.
func logicalLines(text string) ([]string, []int) {
	raw := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	var lines []string
	var numbers []int
	var cur strings.Builder
	start := 0
	for i := 0; i < len(raw); i++ {
		line := raw[i]
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "#") || (trimmed == "" && cur.Len() > 0) {
			continue
		}
		if trimmed == "" {
			continue
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, "\\") {
			cur.WriteString(strings.TrimSuffix(trimmed, "\\"))
			cur.WriteString(" ")
			continue
		}
		cur.WriteString(trimmed)
		full := cur.String()
		cur.Reset()
		lines = append(lines, full)
		numbers = append(numbers, start)
		// Heredocs (RUN <<EOF ... EOF): the body is not instructions.
		for _, m := range heredocRe.FindAllStringSubmatch(full, -1) {
			for i+1 < len(raw) {
				i++
				if strings.TrimSpace(raw[i]) == m[1] {
					break
				}
			}
		}
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
		numbers = append(numbers, start)
	}
	return lines, numbers
}

func parseDockerfile(text string) (*dockerfile, error) {
	df := &dockerfile{globalArgs: map[string]string{}}
	lines, numbers := logicalLines(text)
	var cur *stage
	for i, line := range lines {
		fields := strings.Fields(line)
		instr := strings.ToUpper(fields[0])
		rest := fields[1:]
		switch instr {
		case "ARG":
			for _, a := range rest {
				k, v, _ := strings.Cut(a, "=")
				if cur == nil {
					df.globalArgs[k] = strings.Trim(v, `"'`)
				} else {
					if v == "" {
						v = df.globalArgs[k]
					}
					cur.args[k] = strings.Trim(v, `"'`)
				}
			}
		case "FROM":
			args := withoutFlags(rest)
			if len(args) != 1 && !(len(args) == 3 && strings.EqualFold(args[1], "AS")) {
				return nil, fmt.Errorf("line %d: cannot read %q", numbers[i], line)
			}
			cur = &stage{base: expand(args[0], df.globalArgs), args: map[string]string{}, line: numbers[i]}
			if len(args) == 3 {
				cur.name = strings.ToLower(args[2])
			}
			df.stages = append(df.stages, cur)
		case "COPY", "ADD":
			if cur == nil {
				return nil, fmt.Errorf("line %d: %s before FROM", numbers[i], instr)
			}
			flags, args := splitFlags(rest)
			if strings.HasPrefix(strings.Join(args, " "), "[") {
				var list []string
				if err := json.Unmarshal([]byte(strings.Join(args, " ")), &list); err != nil {
					return nil, fmt.Errorf("line %d: %v", numbers[i], err)
				}
				args = list
			}
			if len(args) < 2 {
				return nil, fmt.Errorf("line %d: %s needs a source and a destination", numbers[i], instr)
			}
			if from, ok := flags["from"]; ok {
				cur.needs = append(cur.needs, strings.ToLower(from))
				continue
			}
			for _, src := range args[:len(args)-1] {
				if strings.HasPrefix(src, "<<") || strings.Contains(src, "://") || strings.HasPrefix(src, "git@") {
					continue
				}
				cur.reads = append(cur.reads, expand(src, mergeArgs(df.globalArgs, cur.args)))
			}
		case "RUN":
			if cur == nil {
				return nil, fmt.Errorf("line %d: RUN before FROM", numbers[i])
			}
			for _, f := range rest {
				if !strings.HasPrefix(f, "--mount=") {
					if !strings.HasPrefix(f, "--") {
						break
					}
					continue
				}
				opts := map[string]string{}
				for _, kv := range strings.Split(strings.TrimPrefix(f, "--mount="), ",") {
					k, v, _ := strings.Cut(kv, "=")
					opts[k] = v
				}
				if from, ok := opts["from"]; ok {
					cur.needs = append(cur.needs, strings.ToLower(from))
				} else if t := opts["type"]; t == "" || t == "bind" {
					src := opts["source"]
					if src == "" {
						src = opts["src"]
					}
					if src == "" {
						src = "."
					}
					cur.reads = append(cur.reads, expand(src, mergeArgs(df.globalArgs, cur.args)))
				}
			}
		}
	}
	if len(df.stages) == 0 {
		return nil, fmt.Errorf("no FROM")
	}
	return df, nil
}

func withoutFlags(fields []string) []string {
	_, args := splitFlags(fields)
	return args
}

func splitFlags(fields []string) (map[string]string, []string) {
	flags := map[string]string{}
	i := 0
	for ; i < len(fields) && strings.HasPrefix(fields[i], "--"); i++ {
		k, v, _ := strings.Cut(strings.TrimPrefix(fields[i], "--"), "=")
		flags[k] = v
	}
	return flags, fields[i:]
}

func mergeArgs(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

var varRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expand substitutes ${VAR}, ${VAR:-default} and $VAR from known ARG values; an unknown one stays as it is.
func expand(s string, vars map[string]string) string {
	return varRe.ReplaceAllStringFunc(s, func(m string) string {
		sub := varRe.FindStringSubmatch(m)
		name := sub[1]
		if name == "" {
			name = sub[4]
		}
		if v, ok := vars[name]; ok && v != "" {
			return v
		}
		if sub[2] != "" {
			return sub[3]
		}
		return m
	})
}

// stage returns the stage a name or index refers to, or nil (an image, not a stage).
func (df *dockerfile) stage(ref string) *stage {
	if n, err := strconv.Atoi(ref); err == nil && n >= 0 && n < len(df.stages) {
		return df.stages[n]
	}
	for _, s := range df.stages {
		if s.name != "" && s.name == strings.ToLower(ref) {
			return s
		}
	}
	return nil
}

func (df *dockerfile) stageNames() []string {
	var names []string
	for _, s := range df.stages {
		if s.name != "" {
			names = append(names, s.name)
		}
	}
	return names
}

// closure is the target stage and every stage it needs, directly or not.
func (df *dockerfile) closure(target *stage) []*stage {
	seen := map[*stage]bool{}
	var out []*stage
	var visit func(s *stage)
	visit = func(s *stage) {
		if s == nil || seen[s] {
			return
		}
		seen[s] = true
		out = append(out, s)
		visit(df.stageBefore(s.base, s))
		for _, n := range s.needs {
			visit(df.stage(n))
		}
	}
	visit(target)
	return out
}

// stageBefore resolves a FROM: a stage name only counts if it is defined above.
func (df *dockerfile) stageBefore(ref string, s *stage) *stage {
	for _, prev := range df.stages {
		if prev == s {
			return nil
		}
		if prev.name != "" && prev.name == strings.ToLower(ref) {
			return prev
		}
	}
	return nil
}
