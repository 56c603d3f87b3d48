package influx

import (
	"bytes"
	"math"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

func checkAppendJSON(t *testing.T, s collectors.SampleSet) {
	t.Helper()
	want, wantErr := s.Marshal()
	got, ok := appendJSON(nil, &s)
	if (wantErr == nil) != ok {
		t.Fatalf("encoding/json err %v, appendJSON ok %v", wantErr, ok)
	}
	if ok && !bytes.Equal(got, want) {
		t.Fatalf("appendJSON\n got %s\nwant %s", got, want)
	}
}

func TestAppendJSON(t *testing.T) {
	for _, s := range decodeCases() {
		checkAppendJSON(t, s)
	}
	odd := upsSet(1, t0)
	odd.Device.Labels = map[string]string{"b": "<&>", "a": "\u2028\x01\xff", "": ""}
	odd.Values[0].Num = 1e21
	odd.Values[1].Num = 1e-7
	odd.Values[2].Num = -0.000001
	odd.Values[3].Kind = collectors.Kind(9)
	odd.Values[4].Quality = collectors.Quality(-1)
	odd.Err = "\b\f\n\r\t\"\\"
	checkAppendJSON(t, odd)
	nan := upsSet(1, t0)
	nan.Values[5].Num = math.NaN()
	checkAppendJSON(t, nan)
	far := upsSet(1, time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC))
	checkAppendJSON(t, far)
	checkAppendJSON(t, collectors.SampleSet{Values: []collectors.Value{}})
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("h1", "room <1>", "ups\u2028", "rack", "A\xff3", "temperature_c", "°C", 23.5, int64(1500000), int64(1772352000), "err\n", 1, 0)
	f.Fuzz(func(t *testing.T, site, room, dev, lk, lv, name, unit string, num float64, dur, sec int64, errs string, kind, q int) {
		s := collectors.SampleSet{
			Device:   collectors.Device{Site: site, Room: room, Name: dev, Labels: map[string]string{lk: lv, lv: lk}},
			Time:     time.Unix(sec, dur).In(time.FixedZone("z", int(dur%86400))),
			Duration: time.Duration(dur),
			Values: []collectors.Value{{Name: name, Unit: unit, Num: num, Kind: collectors.Kind(kind), Quality: collectors.Quality(q), Str: errs, Err: errs},
				{Name: unit, Num: -num / 3}},
			Err: errs,
		}
		checkAppendJSON(t, s)
	})
}

func BenchmarkAppendJSON(b *testing.B) {
	s := upsSet(1, t0)
	b.Run("appendJSON", func(b *testing.B) {
		var buf []byte
		for b.Loop() {
			buf, _ = appendJSON(buf[:0], &s)
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			_, _ = s.Marshal()
		}
	})
}
