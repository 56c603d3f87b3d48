package discover

import (
	"strings"
	"testing"
)

func TestHosts(t *testing.T) {
	cases := []struct {
		cidr        string
		force       bool
		n           int
		first, last string
		err         string
	}{
		{cidr: "127.0.0.0/30", n: 2, first: "127.0.0.1", last: "127.0.0.2"},
		{cidr: "127.0.0.5/29", n: 6, first: "127.0.0.1", last: "127.0.0.6"},
		{cidr: "127.0.0.9", n: 1, first: "127.0.0.9", last: "127.0.0.9"},
		{cidr: "127.0.0.8/31", n: 2, first: "127.0.0.8", last: "127.0.0.9"},
		{cidr: "127.0.0.0/22", n: 1022, first: "127.0.0.1", last: "127.0.3.254"},
		{cidr: "127.0.0.0/21", err: "more than 1024 addresses (a /22)"},
		{cidr: "127.0.0.0/21", force: true, n: 2046, first: "127.0.0.1", last: "127.0.7.254"},
		{cidr: "::1/128", n: 1, first: "::1", last: "::1"},
		{cidr: "127.0.0/24", err: "want an address or CIDR"},
	}
	for _, c := range cases {
		got, err := Hosts(c.cidr, c.force)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want …%s…", c.cidr, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.cidr, err)
			continue
		}
		if len(got) != c.n || got[0].String() != c.first || got[len(got)-1].String() != c.last {
			t.Errorf("%s: %d hosts %v…%v, want %d %s…%s", c.cidr, len(got), got[0], got[len(got)-1], c.n, c.first, c.last)
		}
	}
}
