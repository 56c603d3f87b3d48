package rules

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/roomwatch/roomwatch/collectors"
)

// rebuiltEnv is the environment of s made from scratch: the room's facts,
// the good values in order, then the dew point.
func rebuiltEnv(s *collectors.SampleSet, re *roomEntry) map[string]any {
	env := map[string]any{}
	if re != nil {
		for k, v := range re.facts {
			env[k] = v
		}
	}
	var t, h float64
	var hasT, hasH bool
	for _, v := range s.Values {
		if v.Quality != collectors.Good {
			continue
		}
		env[v.Name] = v.Any()
		switch v.Name {
		case "temperature_c":
			t, hasT = v.Num, true
		case "humidity_pct":
			h, hasH = v.Num, true
		}
	}
	if hasT && hasH && h > 0 {
		env["dew_point_c"] = DewPoint(t, h)
	}
	return env
}

func sameAny(a, b any) bool {
	if x, ok := a.(float64); ok {
		y, ok := b.(float64)
		return ok && math.Float64bits(x) == math.Float64bits(y)
	}
	return a == b
}

// TestDevEnvMatchesRebuild feeds a device's environment sample sets that
// change values, quality, order and names, and checks that it always
// equals the environment rebuilt from scratch.
func TestDevEnvMatchesRebuild(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	rooms := []*roomEntry{nil,
		{facts: map[string]float64{"carry_time_min": 360}},
		{facts: map[string]float64{"threshold": 5, "dew_point_c": 1, "humidity_pct": 3}}}
	vals := []collectors.Value{num("temperature_c", 22), num("humidity_pct", 45), num("load_pct", 30),
		boolv("on_battery", false), enum("battery_status", "normal")}
	var d devEnv
	re := rooms[1]
	for step := range 20000 {
		for i := range vals {
			v := &vals[i]
			v.Quality = collectors.Good
			switch {
			case rng.IntN(4) == 0:
				v.Num += float64(rng.IntN(5) - 2)
			case rng.IntN(50) == 0:
				v.Num = math.Copysign(0, -v.Num)
			case rng.IntN(30) == 0:
				v.Quality = collectors.SensorFault
			}
			if v.Kind == collectors.Enum && rng.IntN(10) == 0 {
				v.Str = []string{"normal", "low"}[rng.IntN(2)]
			}
		}
		set := collectors.SampleSet{Values: append([]collectors.Value(nil), vals...)}
		switch rng.IntN(40) {
		case 0:
			set.Values = set.Values[1:]
		case 1:
			set.Values[0], set.Values[2] = set.Values[2], set.Values[0]
		case 2:
			set.Values = append(set.Values, num("load_pct", 99))
		case 3:
			set.Values = append(set.Values, num("threshold", 7))
		case 4:
			set.Values = append(set.Values, num("dew_point_c", 9))
		case 5:
			re = rooms[rng.IntN(len(rooms))]
		}
		d.fill(&set, re)
		want := rebuiltEnv(&set, re)
		if len(d.vars) != len(want) {
			t.Fatalf("step %d: env %v, want %v", step, d.vars, want)
		}
		for k, w := range want {
			if got, ok := d.vars[k]; !ok || !sameAny(got, w) {
				t.Fatalf("step %d: env[%s] = %v, want %v", step, k, got, w)
			}
		}
	}
}
