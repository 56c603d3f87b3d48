package snmp

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gosnmp/gosnmp"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/collectors/profiles"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// call is one request a fakeAgent received.
type call struct {
	op   string
	oids []string
}

// fakeAgent is a recording in-process Transport answering from a table
// of varbinds the way an SNMP agent would.
type fakeAgent struct {
	mu      sync.Mutex
	v1      bool
	maxOids int // a GET with more OIDs answers tooBig
	objs    map[string]gosnmp.SnmpPDU
	sorted  []string
	calls   []call
	err     error
	closed  bool
}

func newFakeAgent(t testing.TB, walkFile string) *fakeAgent {
	t.Helper()
	a := &fakeAgent{objs: map[string]gosnmp.SnmpPDU{}}
	for _, p := range readWalk(t, walkFile) {
		a.objs[trimDot(p.Name)] = p
		a.sorted = append(a.sorted, trimDot(p.Name))
	}
	sort.Slice(a.sorted, func(i, j int) bool { return CompareOID(a.sorted[i], a.sorted[j]) < 0 })
	return a
}

func (a *fakeAgent) remove(oid string) {
	delete(a.objs, oid)
	a.sorted = slices.DeleteFunc(a.sorted, func(v string) bool { return v == oid })
}

func (a *fakeAgent) record(op string, oids []string) error {
	a.calls = append(a.calls, call{op, append([]string(nil), oids...)})
	return a.err
}

func (a *fakeAgent) next(oid string) (gosnmp.SnmpPDU, bool) {
	i := sort.Search(len(a.sorted), func(i int) bool { return CompareOID(a.sorted[i], trimDot(oid)) > 0 })
	if i == len(a.sorted) {
		return gosnmp.SnmpPDU{Name: oid, Type: gosnmp.EndOfMibView}, false
	}
	return a.objs[a.sorted[i]], true
}

func (a *fakeAgent) Get(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record("get", oids); err != nil {
		return nil, err
	}
	pkt := &gosnmp.SnmpPacket{PDUType: gosnmp.GetResponse}
	if a.maxOids > 0 && len(oids) > a.maxOids {
		pkt.Error = gosnmp.TooBig
		return pkt, nil
	}
	for i, oid := range oids {
		v, ok := a.objs[trimDot(oid)]
		if !ok {
			if a.v1 {
				return &gosnmp.SnmpPacket{Error: gosnmp.NoSuchName, ErrorIndex: uint8(i + 1)}, nil
			}
			v = gosnmp.SnmpPDU{Name: "." + trimDot(oid), Type: gosnmp.NoSuchObject}
		}
		pkt.Variables = append(pkt.Variables, v)
	}
	return pkt, nil
}

func (a *fakeAgent) GetNext(ctx context.Context, oids []string) (*gosnmp.SnmpPacket, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record("getnext", oids); err != nil {
		return nil, err
	}
	pkt := &gosnmp.SnmpPacket{PDUType: gosnmp.GetResponse}
	for i, oid := range oids {
		v, ok := a.next(oid)
		if !ok && a.v1 {
			return &gosnmp.SnmpPacket{Error: gosnmp.NoSuchName, ErrorIndex: uint8(i + 1)}, nil
		}
		pkt.Variables = append(pkt.Variables, v)
	}
	return pkt, nil
}

func (a *fakeAgent) GetBulk(ctx context.Context, oids []string, maxRepetitions uint32) (*gosnmp.SnmpPacket, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if err := a.record("getbulk", oids); err != nil {
		return nil, err
	}
	if a.v1 {
		return nil, errors.New("GETBULK on v1")
	}
	pkt := &gosnmp.SnmpPacket{PDUType: gosnmp.GetResponse}
	cur := append([]string(nil), oids...)
	for r := 0; r < int(maxRepetitions); r++ {
		for j := range cur {
			v, _ := a.next(cur[j])
			cur[j] = v.Name
			pkt.Variables = append(pkt.Variables, v)
		}
	}
	return pkt, nil
}

func (a *fakeAgent) Close() error { a.closed = true; return nil }

func (a *fakeAgent) takeCalls() []call {
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.calls
	a.calls = nil
	return c
}

func testConfig(version string) collectors.DeviceConfig {
	return collectors.DeviceConfig{
		Device:  collectors.Device{Site: "h1", Room: "mr1", Name: "ups1"},
		Target:  collectors.Target{Scheme: collectors.SchemeSNMP, Host: "127.0.0.1:161", Version: version, Community: "public"},
		Timeout: 2 * time.Second,
		Retries: 1,
	}
}

// readWalk parses a recorded walk file.
func readWalk(t testing.TB, walkFile string) []gosnmp.SnmpPDU {
	t.Helper()
	f, err := os.Open(walkFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	pdus, err := ParseWalk(walkFile, f)
	if err != nil {
		t.Fatal(err)
	}
	return pdus
}

func readWant(t testing.TB, name string) []wantValue {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name+".want.json"))
	if err != nil {
		t.Fatal(err)
	}
	var want []wantValue
	if err := json.Unmarshal(data, &want); err != nil {
		t.Fatal(err)
	}
	return want
}

func TestPollPacksScalarsIntoOneGet(t *testing.T) {
	p := builtin(t, "rfc1628-ups")
	a := newFakeAgent(t, "testdata/rfc1628-ups.snmpwalk")
	pl, err := NewWithTransport(testConfig("2c"), p, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := pl.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, s.Values, readWant(t, "rfc1628-ups"))
	calls := a.takeCalls()
	if len(calls) != 2 || calls[0].op != "get" || len(calls[0].oids) != 8 || calls[1].op != "getbulk" || len(calls[1].oids) != 3 {
		t.Fatalf("requests %+v, want one GET of the 8 scalars and one GETBULK of the 3 columns", calls)
	}
	want := collectors.Device{Site: "h1", Room: "mr1", Name: "ups1", Profile: "rfc1628-ups", Class: "ups"}
	if s.Device.ID() != want.ID() || s.Device.Class != "ups" || s.Device.Profile != "rfc1628-ups" {
		t.Fatalf("device %+v, want %+v", s.Device, want)
	}
	if s.Err != "" || !s.Reachable() {
		t.Fatalf("poll err %q", s.Err)
	}
}

func TestPollSplitsOnTooBigAndRemembers(t *testing.T) {
	p := builtin(t, "rfc1628-ups")
	a := newFakeAgent(t, "testdata/rfc1628-ups.snmpwalk")
	a.maxOids = 3
	pl, err := NewWithTransport(testConfig("2c"), p, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := pl.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	checkValues(t, s.Values, readWant(t, "rfc1628-ups"))
	var sizes []int
	for _, c := range a.takeCalls() {
		if c.op == "get" {
			sizes = append(sizes, len(c.oids))
		}
	}
	// 8 tooBig, 4 tooBig, then 2+2+2+2.
	if want := []int{8, 4, 2, 2, 2, 2}; !slices.Equal(sizes, want) {
		t.Fatalf("GET sizes %v, want %v", sizes, want)
	}
	if _, err := pl.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	sizes = sizes[:0]
	for _, c := range a.takeCalls() {
		if c.op == "get" {
			sizes = append(sizes, len(c.oids))
		}
	}
	if want := []int{2, 2, 2, 2}; !slices.Equal(sizes, want) {
		t.Fatalf("second poll GET sizes %v, want %v (the smaller size remembered)", sizes, want)
	}
}

func TestPollV1NoSuchNameKeepsOtherValues(t *testing.T) {
	p := builtin(t, "rfc1628-ups")
	a := newFakeAgent(t, "testdata/rfc1628-ups.snmpwalk")
	a.v1 = true
	const temp = "1.3.6.1.2.1.33.1.2.7.0" // upsBatteryTemperature
	a.remove(temp)
	pl, err := NewWithTransport(testConfig("1"), p, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := pl.Poll(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := readWant(t, "rfc1628-ups")
	for i := range want {
		if want[i].Name == "battery_temp_c" {
			want[i] = wantValue{Name: "battery_temp_c", Quality: "sensor-fault", Err: temp + ": agent answered noSuchName (error-index 6)"}
		}
	}
	checkValues(t, s.Values, want)
	var ops []string
	for _, c := range a.takeCalls() {
		ops = append(ops, c.op+":"+strconv.Itoa(len(c.oids)))
	}
	// GET 8 → noSuchName → GET 7; columns by GETNEXT: 3 rows + 1 past the end.
	if got, want := strings.Join(ops, " "), "get:8 get:7 getnext:3 getnext:3 getnext:3 getnext:3"; got != want {
		t.Fatalf("requests %q, want %q", got, want)
	}
}

func TestPollFailureIsCommsLost(t *testing.T) {
	p := builtin(t, "rfc1628-ups")
	a := newFakeAgent(t, "testdata/rfc1628-ups.snmpwalk")
	a.err = errors.New("request timeout (after 1 retries)")
	pl, err := NewWithTransport(testConfig("2c"), p, a, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := pl.Poll(context.Background())
	if err == nil {
		t.Fatal("poll of a dead device returned no error")
	}
	if !strings.Contains(err.Error(), `device "ups1"`) || !strings.Contains(err.Error(), "request timeout") {
		t.Fatalf("error %q does not name the device and the cause", err)
	}
	if s.Reachable() || len(s.Values) != len(p.Fields) {
		t.Fatalf("got %d values, reachable %v; want %d comms-lost values", len(s.Values), s.Reachable(), len(p.Fields))
	}
	for _, v := range s.Values {
		if v.Quality != collectors.CommsLost {
			t.Fatalf("%s quality %s, want comms-lost", v.Name, v.Quality)
		}
	}
	if err := pl.Close(); err != nil || !a.closed {
		t.Fatalf("close: %v, transport closed %v", err, a.closed)
	}
}

func TestNewRejects(t *testing.T) {
	ups := builtin(t, "rfc1628-ups")
	modbus := &profiles.Profile{Name: "modbus-th", Protocol: "modbus"}
	tests := []struct {
		name string
		edit func(*collectors.DeviceConfig)
		p    *profiles.Profile
		want string
	}{
		{name: "modbus profile", p: modbus, want: `profile "modbus-th" is a modbus profile`},
		{name: "no profile", want: "no profile"},
		{name: "modbus target", p: ups, edit: func(c *collectors.DeviceConfig) { c.Target.Scheme = collectors.SchemeModbusTCP }, want: "is not snmp://"},
		{name: "negative retries", p: ups, edit: func(c *collectors.DeviceConfig) { c.Retries = -1 }, want: "retries -1"},
		{name: "negative timeout", p: ups, edit: func(c *collectors.DeviceConfig) { c.Timeout = -time.Second }, want: "timeout"},
		{name: "bad version", p: ups, edit: func(c *collectors.DeviceConfig) { c.Target.Version = "4" }, want: `version "4"`},
		{name: "bad port", p: ups, edit: func(c *collectors.DeviceConfig) { c.Target.Host = "ups:x" }, want: `port "x"`},
		{name: "v3 unknown auth", p: ups, edit: v3("MD4", "authpass1", "", ""), want: `auth="MD4"`},
		{name: "v3 short authpass", p: ups, edit: v3("SHA256", "short", "", ""), want: "authpass"},
		{name: "v3 priv without auth", p: ups, edit: v3("", "", "AES", "privpass1"), want: "needs auth"},
		{name: "v3 unknown priv", p: ups, edit: v3("SHA", "authpass1", "3DES", "privpass1"), want: `priv="3DES"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig("2c")
			if tc.edit != nil {
				tc.edit(&cfg)
			}
			_, err := New(cfg, tc.p, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: %v, want an error containing %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "authpass1") || strings.Contains(err.Error(), "privpass1") {
				t.Fatalf("error leaks a secret: %v", err)
			}
		})
	}
	for _, auth := range []string{"MD5", "SHA", "SHA224", "SHA256", "SHA384", "SHA512"} {
		for _, priv := range []string{"", "DES", "AES", "AES192", "AES256", "AES192C", "AES256C"} {
			cfg := testConfig("3")
			v3(auth, "authpass1", priv, "privpass1")(&cfg)
			if _, err := New(cfg, ups, nil); err != nil {
				t.Errorf("auth %s priv %q: %v", auth, priv, err)
			}
		}
	}
}

func v3(auth, authPass, priv, privPass string) func(*collectors.DeviceConfig) {
	return func(c *collectors.DeviceConfig) {
		c.Target.Version = "3"
		c.Target.User = "roomwatch"
		c.Target.Auth, c.Target.AuthPass = auth, yamlconf.Secret(authPass)
		c.Target.Priv, c.Target.PrivPass = priv, yamlconf.Secret(privPass)
	}
}
