package main

import (
	"strings"
	"testing"
)

func TestPprofOnlyOnLoopbackOrAsked(t *testing.T) {
	for _, c := range []struct {
		http HTTPConfig
		want bool
	}{
		{HTTPConfig{Listen: "127.0.0.1:9550"}, true},
		{HTTPConfig{Listen: "[::1]:9550"}, true},
		{HTTPConfig{Listen: "localhost:9550"}, true},
		{HTTPConfig{Listen: "0.0.0.0:9550"}, false},
		{HTTPConfig{Listen: ":9550"}, false},
		{HTTPConfig{Listen: "10.1.2.3:9550"}, false},
		{HTTPConfig{Listen: "0.0.0.0:9550", Pprof: true}, true},
	} {
		if got := c.http.servesPprof(); got != c.want {
			t.Errorf("%+v: pprof served %v, want %v", c.http, got, c.want)
		}
	}
}

func TestExposureWarnings(t *testing.T) {
	base := func() *Config {
		c := &Config{HTTP: HTTPConfig{Listen: "127.0.0.1:9550"}, NATS: defaultNATSConfig()}
		c.NATS.Listen = "127.0.0.1:4222"
		return c
	}
	for _, tc := range []struct {
		name string
		mod  func(*Config)
		want []string // substrings, one per warning
	}{
		{"all on loopback", func(*Config) {}, nil},
		{"metrics to the network", func(c *Config) { c.HTTP.Listen = "0.0.0.0:9550" }, []string{"http.listen 0.0.0.0:9550: /metrics"}},
		{"pprof asked for", func(c *Config) { c.HTTP.Listen, c.HTTP.Pprof = ":9550", true }, []string{"CPU profiles"}},
		{"embedded nats, keys, no TLS", func(c *Config) { c.NATS.Listen = "0.0.0.0:4222" }, []string{"nats.listen 0.0.0.0:4222: the embedded server is reachable from the network with no TLS"}},
		{"embedded nats, no auth", func(c *Config) { c.NATS.Listen, c.NATS.Auth = "0.0.0.0:4222", authNone }, []string{"no authentication (nats.auth: none) and no TLS"}},
		{"embedded nats, keys and TLS", func(c *Config) { c.NATS.Listen, c.NATS.TLSCert, c.NATS.TLSKey = "0.0.0.0:4222", "c.pem", "k.pem" }, nil},
		{"external without credentials", func(c *Config) { c.NATS.URL = "nats://hub.example:4222" }, []string{"nats.url nats://hub.example:4222: no credentials and no TLS"}},
		{"external with both", func(c *Config) { c.NATS.URL, c.NATS.User, c.NATS.Password = "tls://hub.example:4222", "u", "p" }, nil},
		{"external on loopback", func(c *Config) { c.NATS.URL = "nats://127.0.0.1:4222" }, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := base()
			tc.mod(c)
			got := exposureWarnings(c)
			if len(got) != len(tc.want) {
				t.Fatalf("warnings %q, want %d", got, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("warning %q, want it to say %q", got[i], w)
				}
			}
		})
	}
}
