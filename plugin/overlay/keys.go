package overlay

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"coopcloud.tech/cc-ci/internal/suggest"
)

// keys lists the valid keys of each mapping in the config, by path ("[]" marks a list item), for
// the unknown-key check. A mapping whose path is not listed (app_env, headers) takes any key.
var keys = map[string][]string{
	"": {"expected_na", "redirect_hosts", "app_env", "timeouts", "health", "readiness",
		"http_checks", "browser_checks", "tests"},
	"expected_na[]":                        {"tier", "reason"},
	"timeouts":                             {"deploy", "http"},
	"health":                               {"path", "statuses"},
	"readiness":                            {"path", "statuses", "text"},
	"http_checks[]":                        {"name", "method", "path", "headers", "body", "statuses", "text", "not_text"},
	"browser_checks[]":                     {"name", "timeout", "steps"},
	"browser_checks[].steps[]":             stepActions,
	"browser_checks[].steps[].fill":        {"selector", "text"},
	"browser_checks[].steps[].wait_text":   {"selector", "text"},
	"browser_checks[].steps[].expect_text": {"selector", "text"},
	"tests[]":                              {"name", "run", "args", "timeout"},
}

// checkKeys walks the document and refuses the first unknown key, naming the nearest valid one.
func checkKeys(doc *yaml.Node) error {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil // an empty file is an empty overlay
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fmt.Errorf("line %d: the overlay must be a mapping of keys (%s)", root.Line, strings.Join(keys[""], ", "))
	}
	return walk(root, "")
}

func walk(n *yaml.Node, path string) error {
	switch n.Kind {
	case yaml.MappingNode:
		valid, strict := keys[path]
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if strict {
				if err := known(path, valid, k); err != nil {
					return err
				}
			}
			child := k.Value
			if path != "" {
				child = path + "." + k.Value
			}
			if err := walk(n.Content[i+1], child); err != nil {
				return err
			}
		}
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if err := walk(item, path+"[]"); err != nil {
				return err
			}
		}
	}
	return nil
}

func known(path string, valid []string, k *yaml.Node) error {
	if slices.Contains(valid, k.Value) {
		return nil
	}
	where := "key"
	if path != "" {
		parts := strings.Split(path, ".")
		where = strings.TrimSuffix(parts[len(parts)-1], "[]") + " key"
	}
	// Sorted, so that of equally near keys the alphabetically first is named, whatever the order
	// of keys' lists.
	near := suggest.Nearest(k.Value, slices.Sorted(slices.Values(valid)))
	return fmt.Errorf("line %d: unknown %s %q: did you mean %q? (valid: %s)", k.Line, where, k.Value, near, strings.Join(valid, ", "))
}

// UnmarshalYAML reads a step written as a one-key mapping (see Step).
func (s *Step) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
		return fmt.Errorf("line %d: a browser step is one action, e.g. `- visit: /` or `- click: \"#save\"` (one of %s)", n.Line, strings.Join(stepActions, ", "))
	}
	s.Action = n.Content[0].Value
	v := n.Content[1]
	switch s.Action {
	case "visit", "click", "screenshot":
		if v.Kind != yaml.ScalarNode {
			return fmt.Errorf("line %d: %s takes one value, e.g. `%s: %s`", v.Line, s.Action, s.Action, map[string]string{"visit": "/", "click": "\"#save\"", "screenshot": "page.png"}[s.Action])
		}
		switch s.Action {
		case "visit":
			s.Path = v.Value
		case "click":
			s.Selector = v.Value
		default:
			s.File = v.Value
		}
	default:
		var st struct {
			Selector string `yaml:"selector"`
			Text     string `yaml:"text"`
		}
		if v.Kind != yaml.MappingNode {
			return fmt.Errorf("line %d: %s takes {selector: ..., text: ...}", v.Line, s.Action)
		}
		if err := v.Decode(&st); err != nil {
			return fmt.Errorf("line %d: %s: %w", v.Line, s.Action, err)
		}
		s.Selector, s.Text = st.Selector, st.Text
	}
	return nil
}
