package influx

import "github.com/roomwatch/roomwatch/collectors"

// AppendLines appends the line protocol of sets (the schema documented in
// schema.go, nanosecond timestamps) to b. It is the encoding the Spool
// uses, for tools and tests that write roomwatch's points themselves (the
// Grafana dashboard test writes a simulated day with it).
func AppendLines(b []byte, sets ...collectors.SampleSet) []byte {
	var e encoder
	for i := range sets {
		b, _ = e.Append(b, &sets[i])
	}
	return b
}
