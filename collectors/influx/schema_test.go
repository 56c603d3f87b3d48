package influx

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

func TestEncode(t *testing.T) {
	at := time.Date(2026, 3, 1, 8, 0, 0, 123_000_000, time.UTC)
	dev := collectors.Device{Site: "h1", Room: "room 1", Name: "ups,a", Profile: "apc-ups", Class: "ups",
		Labels: map[string]string{"rack": "A3", "site": "dup", "note": ""}}
	tags := `,class=ups,device=ups\,a,label_site=dup,profile=apc-ups,rack=A3,room=room\ 1,site=h1`
	cases := []struct {
		name      string
		set       collectors.SampleSet
		precision string
		want      string
	}{
		{
			name: "kinds",
			set: collectors.SampleSet{Device: dev, Time: at, Duration: 1500 * time.Microsecond, Values: []collectors.Value{
				{Name: "load_pct", Kind: collectors.Number, Num: 37.5},
				{Name: "on_battery", Kind: collectors.Bool, Num: 1},
				{Name: "battery_status", Kind: collectors.Enum, Num: 3, Str: "low"},
				{Name: "model", Kind: collectors.Text, Str: `Smart "UPS" 3000\`},
			}},
			precision: "ms",
			want: "roomwatch_ups" + tags + ` load_pct=37.5,on_battery=true,battery_status="low",battery_status_code=3,model="Smart \"UPS\" 3000\\" 1772352000123` + "\n" +
				"roomwatch_poll" + tags + ` duration_s=0.0015,reachable=true,values=4i,bad_values=0i 1772352000123` + "\n",
		},
		{
			name: "bad values are not numbers",
			set: collectors.SampleSet{Device: dev, Time: at, Values: []collectors.Value{
				{Name: "temperature_c", Kind: collectors.Number, Num: 3276.7, Quality: collectors.SensorFault},
				{Name: "humidity_pct", Kind: collectors.Number, Num: math.NaN()},
				{Name: "door_open", Kind: collectors.Bool, Num: 0},
			}},
			precision: "s",
			want: "roomwatch_ups" + tags + ` temperature_c_quality="sensor-fault",humidity_pct_quality="invalid",door_open=false 1772352000` + "\n" +
				"roomwatch_poll" + tags + ` duration_s=0,reachable=true,values=3i,bad_values=1i 1772352000` + "\n",
		},
		{
			name: "comms lost",
			set: collectors.Failed(collectors.Device{Site: "h1", Room: "r", Name: "th"}, at, 2*time.Second,
				[]collectors.ValueSpec{{Name: "temperature_c", Kind: collectors.Number}}, errString("timeout\nafter 2s")),
			precision: "ns",
			want: `roomwatch_device,device=th,room=r,site=h1 temperature_c_quality="comms-lost" 1772352000123000000` + "\n" +
				`roomwatch_poll,device=th,room=r,site=h1 duration_s=2,reachable=false,values=1i,bad_values=1i,error="timeout after 2s" 1772352000123000000` + "\n",
		},
		{
			name:      "no values: poll line only",
			set:       collectors.SampleSet{Device: collectors.Device{Site: "h1", Room: "r", Name: "x"}, Time: at},
			precision: "us",
			want:      `roomwatch_poll,device=x,room=r,site=h1 duration_s=0,reachable=true,values=0i,bad_values=0i 1772352000123000` + "\n",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			unit := int64(precisions[c.precision])
			// The spool's encoder in the writer's precision, and the
			// writer's rewriting of nanosecond lines (a spool written
			// before a change of precision).
			got, n := (&encoder{unit: unit}).Append(nil, &c.set)
			if string(got) != c.want {
				t.Errorf("encoded in %s:\n%s\nwant\n%s", c.precision, got, c.want)
			}
			if lines := strings.Count(c.want, "\n"); n != lines {
				t.Errorf("Append says %d lines, want %d", n, lines)
			}
			ns, _ := (&encoder{}).Append(nil, &c.set)
			if got := appendLines(nil, ns, 1, unit); string(got) != c.want {
				t.Errorf("rewritten from ns:\n%s\nwant\n%s", got, c.want)
			}
		})
	}
}

type errString string

func (e errString) Error() string { return string(e) }

func TestSubject(t *testing.T) {
	got := Subject("roomwatch.samples", "h.1 医院*>")
	if want := "roomwatch.samples.h_1_医院__"; got != want {
		t.Errorf("Subject = %q, want %q", got, want)
	}
	if got := Subject("p", ""); got != "p._" {
		t.Errorf("empty site: %q", got)
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.URL, good.Bucket = "http://127.0.0.1:8086", "roomwatch/autogen"
	var errs yamlconf.Errors
	good.Validate(&errs, "influx")
	if err := errs.Err(); err != nil {
		t.Fatalf("good config: %v", err)
	}

	bad := DefaultConfig()
	bad.URL, bad.Precision, bad.TLSCA, bad.BatchSize = "ftp://x", "m", "ca.pem", 0
	bad.Spool.MaxBytes, bad.Spool.Persist = 1000, "maybe"
	errs = yamlconf.Errors{}
	bad.Validate(&errs, "influx")
	err := errs.Err()
	if err == nil {
		t.Fatal("bad config accepted")
	}
	for _, want := range []string{"influx.url:", "influx.bucket: required", "influx.precision:", "influx.tls_ca:",
		"influx.batch_size:", "influx.spool.max_bytes:", "influx.spool.persist:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("missing %q in\n%v", want, err)
		}
	}
}

func TestDefaultMaxBytes(t *testing.T) {
	// The benchmark workload: 200 devices x 12 values every second.
	loads := make([]Load, 200)
	for i := range loads {
		loads[i] = Load{Values: 12, Interval: time.Second}
	}
	got := DefaultMaxBytes(loads, DefaultHold)
	// What 72 hours really take: the line protocol of real sample sets
	// (a burst of polls shares a message's subject, headers and overhead).
	s := upsSet(1, t0)
	data, _ := (&encoder{}).Append(nil, &s)
	real := int64(len(data)) * 200 * 72 * 3600
	if int64(got) < real {
		t.Errorf("DefaultMaxBytes = %s, less than 72h of real messages (%s)", got, yamlconf.Size(real))
	}
	if int64(got) > 3*real {
		t.Errorf("DefaultMaxBytes = %s, far more than 72h of real messages (%s)", got, yamlconf.Size(real))
	}
	if got := DefaultMaxBytes([]Load{{Values: 2, Interval: time.Minute}}, DefaultHold); got != MinMaxBytes {
		t.Errorf("one slow device: %s, want the floor %s", got, yamlconf.Size(MinMaxBytes))
	}
	t.Logf("200 x 12 values/s for 72h: %s (%d bytes per message)", got, MessageBytes(12))
}

// The writer's conversion of spooled nanosecond timestamps.
func TestAppendLines(t *testing.T) {
	cases := []struct {
		in       string
		from, to time.Duration
		want     string
	}{
		{"m v=1 1772352000123456789\nm v=2 1772352000999999999\n", time.Nanosecond, time.Millisecond, "m v=1 1772352000123\nm v=2 1772352000999\n"},
		{"m v=1 1772352000123456789", time.Nanosecond, time.Second, "m v=1 1772352000\n"},
		{"m v=1 1772352000123456789", time.Nanosecond, time.Nanosecond, "m v=1 1772352000123456789\n"},
		{`m,t=a\ b s="x y" -1500000` + "\n", time.Nanosecond, time.Millisecond, `m,t=a\ b s="x y" -2` + "\n"}, // rounded down like UnixMilli
		{"not a line\nm v=1 99999999999999999999\n", time.Nanosecond, time.Millisecond, "not a line\nm v=1 99999999999999999999\n"},
		{"m v=1 1772352000123\n", time.Millisecond, time.Second, "m v=1 1772352000\n"},
		{"m v=1 1772352000123\n", time.Millisecond, time.Nanosecond, "m v=1 1772352000123000000\n"},
		{"m v=1 1772352000", time.Second, time.Microsecond, "m v=1 1772352000000000\n"},
	}
	for _, c := range cases {
		if got := string(appendLines([]byte("x\n"), []byte(c.in), int64(c.from), int64(c.to))); got != "x\n"+c.want {
			t.Errorf("appendLines(%q, %v → %v) = %q, want %q", c.in, c.from, c.to, got, "x\n"+c.want)
		}
	}
	if got := time.Unix(0, -1500000).UnixMilli(); got != -2 {
		t.Errorf("UnixMilli rounds %d", got)
	}
}

// batch_size is a size: "5MiB" reads as such, and a count of sample sets
// as it was once documented (5000) is refused rather than read as bytes.
func TestBatchSizeIsASize(t *testing.T) {
	var c struct {
		BatchSize yamlconf.Size `yaml:"batch_size"`
	}
	if _, err := yamlconf.Decode("roomwatch.yaml", []byte("batch_size: 5MiB\n"), &c); err != nil || c.BatchSize != 5<<20 {
		t.Fatalf("5MiB: %v, %d", err, c.BatchSize)
	}
	cfg := DefaultConfig()
	cfg.URL, cfg.Bucket, cfg.BatchSize = "http://127.0.0.1:8086", "db/rp", 5000
	errs := yamlconf.Errors{}
	cfg.Validate(&errs, "influx")
	if err := errs.Err(); err == nil || !strings.Contains(err.Error(), "influx.batch_size: 4.9KiB: must be between 64.0KiB and 100.0MiB (write 5MiB)") {
		t.Fatalf("batch_size 5000: %v", err)
	}
	if n := batchMessages(DefaultBatchSize); n != 5000 {
		t.Errorf("default fetches %d messages, want 5000 as before", n)
	}
}

// TestEncoderSeries: a device's cached series key follows a change of its
// profile, class or labels, and devices no longer seen leave the cache.
func TestEncoderSeries(t *testing.T) {
	var e encoder
	dev := collectors.Device{Site: "h1", Room: "r", Name: "ups1", Profile: "apc-ups", Class: "ups",
		Labels: map[string]string{"rack": "A3"}}
	line := func() string {
		s := collectors.SampleSet{Device: dev, Time: time.Unix(1, 0), Values: []collectors.Value{{Name: "load_pct", Num: 1}}}
		b, _ := e.Append(nil, &s)
		return string(b[:strings.IndexByte(string(b), ' ')])
	}
	for _, step := range []struct {
		change func()
		want   string
	}{
		{func() {}, "roomwatch_ups,class=ups,device=ups1,profile=apc-ups,rack=A3,room=r,site=h1"},
		{func() { dev.Labels = map[string]string{"rack": "B1"} }, "roomwatch_ups,class=ups,device=ups1,profile=apc-ups,rack=B1,room=r,site=h1"},
		{func() { dev.Labels["row"] = "2" }, "roomwatch_ups,class=ups,device=ups1,profile=apc-ups,rack=B1,room=r,row=2,site=h1"},
		{func() { dev.Profile = "rfc1628-ups" }, "roomwatch_ups,class=ups,device=ups1,profile=rfc1628-ups,rack=B1,room=r,row=2,site=h1"},
		{func() { dev.Class, dev.Labels = "", nil }, "roomwatch_device,device=ups1,profile=rfc1628-ups,room=r,site=h1"},
	} {
		step.change()
		if got := line(); got != step.want {
			t.Errorf("got %s, want %s", got, step.want)
		}
	}
	gone := dev
	gone.Name = "removed"
	e.Append(nil, &collectors.SampleSet{Device: gone})
	for range 2 * sweepEvery(2) {
		line()
	}
	if _, ok := e.series[collectors.DeviceKey{Site: "h1", Room: "r", Name: "removed"}]; ok || len(e.series) != 1 {
		t.Errorf("cache after sweeps: %d series, removed device still there: %v", len(e.series), ok)
	}
}
