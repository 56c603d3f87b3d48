package grafana

import (
	"os"
	"path/filepath"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestProvisioning: the provisioned data sources are the ones the
// dashboards start on, each in its query language, and the dashboard
// provider is a file provider.
func TestProvisioning(t *testing.T) {
	var ds struct {
		APIVersion  int `yaml:"apiVersion"`
		Datasources []struct {
			Name, UID, Type string
			JSONData        map[string]any `yaml:"jsonData"`
		}
	}
	readYAML(t, filepath.Join("provisioning", "datasources", "roomwatch.yaml"), &ds)
	want := map[string]struct{ name, version string }{
		dsInfluxQLUID: {dsInfluxQLName, ""},
		dsFluxUID:     {dsFluxName, "Flux"},
	}
	if ds.APIVersion != 1 || len(ds.Datasources) != len(want) {
		t.Fatalf("datasources: apiVersion %d, %d data sources, want 1, %d", ds.APIVersion, len(ds.Datasources), len(want))
	}
	for _, d := range ds.Datasources {
		w, ok := want[d.UID]
		if !ok || d.Name != w.name || d.Type != "influxdb" {
			t.Errorf("data source %q (uid %s, type %s): the dashboards expect %v", d.Name, d.UID, d.Type, want)
		}
		if v, _ := d.JSONData["version"].(string); v != w.version {
			t.Errorf("data source %s: version %q, want %q", d.UID, v, w.version)
		}
		if w.version == "Flux" && d.JSONData["defaultBucket"] == nil {
			t.Errorf("data source %s: no defaultBucket (the Flux queries read v.defaultBucket)", d.UID)
		}
		if w.version == "" && d.JSONData["dbName"] == nil {
			t.Errorf("data source %s: no dbName", d.UID)
		}
	}

	var dp struct {
		APIVersion int `yaml:"apiVersion"`
		Providers  []struct {
			Type    string
			Options struct{ Path string }
		}
	}
	readYAML(t, filepath.Join("provisioning", "dashboards", "roomwatch.yaml"), &dp)
	if dp.APIVersion != 1 || len(dp.Providers) != 1 || dp.Providers[0].Type != "file" || dp.Providers[0].Options.Path == "" {
		t.Errorf("dashboard provider: %+v", dp)
	}
}

func readYAML(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}
