package influx

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"sync"
)

// gzipTransport compresses the body of every write request with gzip at
// BestSpeed, reusing one compressor. The InfluxDB client's own gzip
// option makes a new default-level compressor (and a goroutine and a
// pipe) per request; line protocol compresses about as well at BestSpeed
// for a third of the CPU. The compressor (about 1.1 MB, most of it the
// hash tables compress/flate allocates at every level) is kept rather
// than pooled: writes are sequential, and a pool drops it at every other
// garbage collection, so each write allocated a new one.
type gzipTransport struct {
	base http.RoundTripper
	mu   sync.Mutex
	zw   *gzip.Writer
}

// RoundTrip implements http.RoundTripper.
func (t *gzipTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body == nil || req.Body == http.NoBody || req.Header.Get("Content-Encoding") != "" {
		return t.base.RoundTrip(req)
	}
	body, err := t.compress(req.Body)
	req.Body.Close()
	if err != nil {
		return nil, err
	}
	r := req.Clone(req.Context()) // a RoundTripper must not change req
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	r.ContentLength = int64(len(body))
	r.Header.Set("Content-Encoding", "gzip")
	return t.base.RoundTrip(r)
}

// compress returns the gzip form of what src holds.
func (t *gzipTransport) compress(src io.Reader) ([]byte, error) {
	var buf bytes.Buffer
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.zw == nil {
		t.zw, _ = gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	} else {
		t.zw.Reset(&buf)
	}
	if _, err := io.Copy(t.zw, src); err != nil {
		return nil, err
	}
	if err := t.zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// loopback reports whether rawURL names this host (localhost or a
// loopback address): there gzip costs both ends CPU and memory and saves
// nothing.
func loopback(rawURL string) bool {
	u, err := url.Parse(rawURL)
	if err != nil {
		return false
	}
	h := u.Hostname()
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}
