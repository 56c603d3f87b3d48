package yamlconf

import (
	"fmt"
	"os"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// Secret is a password or community string. It prints as <secret> so it
// never leaks into logs or errors. In YAML it is a plain string, or
// {env: NAME} to read an environment variable, or {file: PATH} to read a
// file (trailing newline removed).
type Secret string

// String hides the secret.
func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "<secret>"
}

// GoString hides the secret from %#v.
func (s Secret) GoString() string { return `"` + s.String() + `"` }

// MarshalText hides the secret when a config is printed.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalYAML accepts a string, {env: NAME} or {file: PATH}.
func (s *Secret) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = Secret(n.Value)
		return nil
	}
	var ref struct {
		Env  string `yaml:"env"`
		File string `yaml:"file"`
	}
	if n.Kind != yaml.MappingNode {
		return fmt.Errorf("a secret is a text, {env: NAME} or {file: PATH}")
	}
	if err := n.Decode(&ref); err != nil {
		return fmt.Errorf("a secret is a text, {env: NAME} or {file: PATH}")
	}
	switch {
	case ref.Env != "" && ref.File != "":
		return fmt.Errorf("a secret takes env or file, not both")
	case ref.Env != "":
		v, ok := os.LookupEnv(ref.Env)
		if !ok {
			return fmt.Errorf("environment variable %s is not set (set it in the service's environment, or give the secret as {file: PATH})", ref.Env)
		}
		*s = Secret(v)
	case ref.File != "":
		b, err := ReadFile(ref.File)
		if err != nil {
			return fmt.Errorf("secret file: %w", err)
		}
		*s = Secret(strings.TrimRight(string(b), "\r\n"))
	default:
		return fmt.Errorf("a secret is a text, {env: NAME} or {file: PATH}")
	}
	return nil
}
