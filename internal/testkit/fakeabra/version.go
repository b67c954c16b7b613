package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"
)

// composeVersion returns the `version:` node of the compose file at dir/file (nil when it has
// none), kept as written (tag and style), so the fake's label override declares the very same
// version. docker stack deploy refuses compose files of different versions ("version mismatched
// between two composefiles", docker/cli cli/compose/loader/loader.go Load), and reads an unquoted
// 3.10 as the number 3.1; real abra sets its labels in memory and has no file of its own to match.
func composeVersion(dir, file string) (*yaml.Node, error) {
	data, err := os.ReadFile(filepath.Join(dir, file))
	if err != nil {
		return nil, fmt.Errorf("compose file %s: %w", file, err)
	}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(data)).Decode(&doc); err != nil {
		return nil, fmt.Errorf("compose file %s: %w", file, err)
	}
	if len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil, fmt.Errorf("compose file %s is not a YAML mapping", file)
	}
	m := doc.Content[0]
	for i := 0; i+1 < len(m.Content); i += 2 {
		if v := m.Content[i+1]; m.Content[i].Value == "version" && v.Kind == yaml.ScalarNode {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: v.Tag, Value: v.Value, Style: v.Style}, nil
		}
	}
	return nil, nil
}
