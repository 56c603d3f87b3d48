package snmp

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors"
)

// TestTableRecorded decodes recorded apc-env walks with one, two and
// three probes (iem and uio tables, a Chinese probe name, a probe in
// Fahrenheit): one value per row, named by the probe.
func TestTableRecorded(t *testing.T) {
	p := builtin(t, "apc-env")
	for _, name := range []string{"apc-env-iem1", "apc-env-iem2", "apc-env-mixed3"} {
		t.Run(name, func(t *testing.T) {
			r := ResponseFromWalk(p, readWalk(t, filepath.Join("testdata", name+".snmpwalk")))
			got := Decode(p, &r, nil)
			if !collectors.UniqueNames(got) {
				t.Errorf("duplicate value names: %+v", got)
			}
			checkValues(t, got, readWant(t, name))
		})
	}
}

// TestTableNoRows: a card with no probe at all is a sensor fault under
// the bare names, naming the columns.
func TestTableNoRows(t *testing.T) {
	p := builtin(t, "apc-env")
	r := ResponseFromWalk(p, nil)
	got := Decode(p, &r, nil)
	if len(got) != 2 || got[0].Name != "temperature_c" || got[1].Name != "humidity_pct" {
		t.Fatalf("got %+v, want temperature_c and humidity_pct faults", got)
	}
	for _, v := range got {
		if v.Quality != collectors.SensorFault || v.Err == "" {
			t.Errorf("%s: %s %q, want sensor-fault with a reason", v.Name, v.Quality, v.Err)
		}
	}
}

// switchTransport sends to one of two real transports.
type switchTransport struct {
	trs [2]Transport
	cur int
}

func (s *switchTransport) Get(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error) {
	return s.trs[s.cur].Get(ctx, oids)
}

func (s *switchTransport) GetNext(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error) {
	return s.trs[s.cur].GetNext(ctx, oids)
}

func (s *switchTransport) GetBulk(ctx context.Context, oids []string, n uint32) (*gosnmp.SnmpPacket, error) {
	return s.trs[s.cur].GetBulk(ctx, oids, n)
}

func (s *switchTransport) Close() error {
	return errors.Join(s.trs[0].Close(), s.trs[1].Close())
}

// TestSnmpdTable walks the probe tables served by net-snmp snmpd, v2c
// (GETBULK) and v1 (GETNEXT); then the same poller reads an agent where
// a probe has gone: its values are gone too, nothing stale is left.
func TestSnmpdTable(t *testing.T) {
	addrs := []string{
		runSnmpd(t, "rocommunity public 127.0.0.1\n"+overrides(t, "testdata/apc-env-mixed3.snmpwalk")),
		runSnmpd(t, "rocommunity public 127.0.0.1\n"+overrides(t, "testdata/apc-env-iem1.snmpwalk")),
	}
	for _, version := range []string{"2c", "1"} {
		t.Run("v"+version, func(t *testing.T) {
			var sw switchTransport
			for k, addr := range addrs {
				cfg := snmpdConfig(t, addr, version)
				c, err := newClient(cfg.Target, cfg.Timeout, cfg.Retries)
				if err != nil {
					t.Fatal(err)
				}
				sw.trs[k] = c
			}
			pl, err := NewWithTransport(snmpdConfig(t, addrs[0], version), builtin(t, "apc-env"), &sw, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer pl.Close()
			s, err := pl.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkValues(t, s.Values, readWant(t, "apc-env-mixed3"))
			sw.cur = 1
			s, err = pl.Poll(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			checkValues(t, s.Values, readWant(t, "apc-env-iem1"))
		})
	}
}
