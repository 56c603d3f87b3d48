package influx

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Write bodies go out gzip-compressed, with their length, and decompress
// to what was sent; a request that already names an encoding is left alone.
func TestGzipTransport(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body := io.Reader(r.Body)
		if r.Header.Get("Content-Encoding") == "gzip" {
			if r.ContentLength <= 0 {
				t.Errorf("compressed body without a length")
			}
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				t.Errorf("not gzip: %v", err)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		got = append(got, r.Header.Get("Content-Encoding")+":"+string(b))
	}))
	defer srv.Close()
	c := &http.Client{Transport: &gzipTransport{base: http.DefaultTransport}}
	lines := strings.Repeat("roomwatch_env,site=h1 temperature_c=23.5 1772352000123\n", 100)
	for range 2 { // the second reuses the compressor
		resp, err := c.Post(srv.URL, "text/plain", strings.NewReader(lines))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	req, _ := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader("x"))
	req.Header.Set("Content-Encoding", "identity")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	want := []string{"gzip:" + lines, "gzip:" + lines, "identity:x"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("server got %q", got)
	}
}

// Writes to this host go uncompressed; any other host gets gzip.
func TestLoopback(t *testing.T) {
	for _, c := range []struct {
		url  string
		want bool
	}{
		{"http://127.0.0.1:8086", true},
		{"http://127.3.4.5:8086", true},
		{"http://localhost:8086", true},
		{"https://LOCALHOST", true},
		{"http://[::1]:8086", true},
		{"http://10.0.0.5:8086", false},
		{"https://influx.example.org", false},
		{"http://[::ffff:10.0.0.1]:8086", false},
		{"://bad", false},
	} {
		if got := loopback(c.url); got != c.want {
			t.Errorf("loopback(%q) = %v, want %v", c.url, got, c.want)
		}
	}
}

// The write endpoint is the one the client's own write API uses.
func TestWriteURL(t *testing.T) {
	got, err := writeURL("http://127.0.0.1:8086/api/v2/", Config{Org: "o", Bucket: "db/autogen", Precision: "ms"})
	if err != nil {
		t.Fatal(err)
	}
	if want := "http://127.0.0.1:8086/api/v2/write?bucket=db%2Fautogen&org=o&precision=ms"; got != want {
		t.Errorf("writeURL = %q, want %q", got, want)
	}
}
