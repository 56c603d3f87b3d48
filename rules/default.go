package rules

import _ "embed"

//go:embed default.yaml
var defaultYAML []byte

// DefaultFile is the name default-rule errors and alerts refer to.
const DefaultFile = "rules/default.yaml"

// DefaultYAML returns the shipped default rule set as YAML, for
// documentation (`roomwatch rules --default`) and as a starting point.
func DefaultYAML() []byte { return append([]byte(nil), defaultYAML...) }

// Default returns the shipped default rule set for the built-in profiles.
func Default() ([]Rule, error) { return Parse(DefaultFile, defaultYAML) }
