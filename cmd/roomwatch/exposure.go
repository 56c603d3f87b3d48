package main

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// isLoopback reports whether a listen host reaches this machine only
// (127.0.0.0/8, ::1, localhost). An empty host, 0.0.0.0 and :: listen on
// every interface.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// listenHost is the host part of a host:port listen address ("" when it
// cannot be split: Validate reports that).
func listenHost(addr string) string {
	h, _, err := net.SplitHostPort(addr)
	if err != nil {
		return ""
	}
	return h
}

// servesPprof reports whether the HTTP listener serves /debug/pprof/:
// on loopback always (the engineer on the host), elsewhere only when
// http.pprof says so — profiles and traces on demand cost CPU and show
// the program's insides to whoever asks.
func (c HTTPConfig) servesPprof() bool {
	return c.Pprof || isLoopback(listenHost(c.Listen))
}

// exposureWarnings lists the listeners and connections that others on
// the network can reach without authentication or TLS; `check` prints
// them.
func exposureWarnings(c *Config) []string {
	var out []string
	if h := listenHost(c.HTTP.Listen); !isLoopback(h) {
		w := fmt.Sprintf("http.listen %s: /metrics and /healthz are served to the network with no authentication and no TLS (put a proxy with both in front, or listen on 127.0.0.1)", c.HTTP.Listen)
		if c.HTTP.Pprof {
			w += "; http.pprof serves CPU profiles and traces to anyone who asks"
		}
		out = append(out, w)
	}
	n := c.NATS
	if n.Embedded() {
		if h := listenHost(n.Listen); !isLoopback(h) {
			var missing []string
			if n.authMode() == authNone {
				missing = append(missing, "no authentication (nats.auth: none)")
			}
			if n.TLSCert == "" {
				missing = append(missing, "no TLS (nats.tls_cert, tls_key)")
			}
			if len(missing) > 0 {
				out = append(out, fmt.Sprintf("nats.listen %s: the embedded server is reachable from the network with %s", n.Listen, strings.Join(missing, " and ")))
			}
		}
		return out
	}
	for _, u := range splitURLs(n.URL) {
		pu, err := url.Parse(u)
		if err != nil || isLoopback(pu.Hostname()) {
			continue
		}
		var missing []string
		if !n.hasCredentials() && pu.User == nil {
			missing = append(missing, "no credentials")
		}
		if pu.Scheme != "tls" && pu.Scheme != "wss" && n.TLSCA == "" && n.TLSCert == "" {
			missing = append(missing, "no TLS")
		}
		if len(missing) > 0 {
			out = append(out, fmt.Sprintf("nats.url %s: %s", pu.Redacted(), strings.Join(missing, " and ")))
		}
	}
	return out
}
