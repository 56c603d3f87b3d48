package influx

import (
	"encoding/json"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
)

func decodeCases() []collectors.SampleSet {
	ups := upsSet(3, t0.Add(123456789*time.Nanosecond))
	ups.Values[3].Quality = collectors.SensorFault
	ups.Values[3].Err = `oid .1.3.6.1.2.1.33.1.2.1.0: "noSuchObject"` // escaped quotes
	ups.Values[5].Num = -1.5e-7
	env := envSet("机房-th", 3)
	env.Device.Labels = map[string]string{"rack": "A\t3", "floor": "2"}
	failed := collectors.Failed(env.Device, t0.In(time.FixedZone("CST", 8*3600)), time.Second,
		[]collectors.ValueSpec{{Name: "temperature_c", Unit: "°C"}}, errString("timeout\n"))
	return []collectors.SampleSet{ups, env, failed, {}, {Device: collectors.Device{Name: "x"}, Values: []collectors.Value{}}}
}

func TestDecoderMatchesEncodingJSON(t *testing.T) {
	d := newDecoder()
	for i, s := range decodeCases() {
		data, err := s.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		var want, got collectors.SampleSet
		if err := json.Unmarshal(data, &want); err != nil {
			t.Fatal(err)
		}
		if err := d.Decode(data, &got); err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, want) || !got.Time.Equal(s.Time) {
			t.Errorf("case %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
}

func TestDecoderOddInput(t *testing.T) {
	d := newDecoder()
	for _, in := range []string{
		`{"device":{"site":"a","extra":[1,{"x":null}]},"values":[{"name":"t","num":1e3,"kind":"number","quality":"good"}],"new":true}`,
		` { "values" : null , "err" : "x" } `,
		`{"values":[{"name":"t","kind":"bogus"}]}`,
		`{"values":[{"name":"t","num":"1"}]}`,
		`{"device":{"labels":{"a":"b"}}}trailing`,
		`{"time":"not a time"}`,
		`[]`,
		``,
	} {
		var want, got collectors.SampleSet
		wantErr := json.Unmarshal([]byte(in), &want)
		gotErr := d.Decode([]byte(in), &got)
		if (wantErr == nil) != (gotErr == nil) || (gotErr == nil && !reflect.DeepEqual(got, want)) {
			t.Errorf("%s:\n got %+v, %v\nwant %+v, %v", in, got, gotErr, want, wantErr)
		}
	}
	_ = math.Pi
}

func FuzzDecoder(f *testing.F) {
	for _, s := range decodeCases() {
		data, _ := s.Marshal()
		f.Add(data)
	}
	d := newDecoder()
	f.Fuzz(func(t *testing.T, data []byte) {
		var want, got collectors.SampleSet
		wantErr := json.Unmarshal(data, &want)
		gotErr := d.Decode(data, &got)
		if (wantErr == nil) != (gotErr == nil) {
			t.Fatalf("%q: encoding/json %v, decoder %v", data, wantErr, gotErr)
		}
		if gotErr == nil && !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %+v\nwant %+v", data, got, want)
		}
	})
}

func BenchmarkDecode(b *testing.B) {
	s := upsSet(1, t0)
	data, _ := s.Marshal()
	b.Run("decoder", func(b *testing.B) {
		d := newDecoder()
		for b.Loop() {
			var got collectors.SampleSet
			if err := d.Decode(data, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("encoding-json", func(b *testing.B) {
		for b.Loop() {
			var got collectors.SampleSet
			if err := json.Unmarshal(data, &got); err != nil {
				b.Fatal(err)
			}
		}
	})
}
