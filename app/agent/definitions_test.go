package agent

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestToolDefinitions(t *testing.T) {
	t.Parallel()
	all := Tools(nil)
	var names []string
	for _, tool := range all {
		names = append(names, tool.Name)
		var schema struct {
			Type       string                     `json:"type"`
			Properties map[string]json.RawMessage `json:"properties"`
			Required   []string                   `json:"required"`
		}
		if err := json.Unmarshal(tool.Schema, &schema); err != nil {
			t.Errorf("%s: schema is not JSON: %v", tool.Name, err)
			continue
		}
		if schema.Type != "object" || len(schema.Properties) == 0 || len(tool.Description) < 80 {
			t.Errorf("%s: got type %q, %d properties, a %d-byte description", tool.Name, schema.Type, len(schema.Properties), len(tool.Description))
		}
		for _, r := range schema.Required {
			if _, ok := schema.Properties[r]; !ok {
				t.Errorf("%s: required %q is not a property", tool.Name, r)
			}
		}
	}
	if !slices.Equal(names, ToolNames) {
		t.Errorf("got %v, want %v", names, ToolNames)
	}
	tests := []struct {
		enabled []string
		want    []string
	}{
		{nil, ToolNames},
		{[]string{"grep", "read_file"}, []string{"read_file", "grep"}},
		{[]string{"read_file", "no_such_tool"}, []string{"read_file"}},
	}
	for _, tc := range tests {
		var got []string
		for _, tool := range Tools(tc.enabled) {
			got = append(got, tool.Name)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Tools(%v): got %v, want %v", tc.enabled, got, tc.want)
		}
	}
}
