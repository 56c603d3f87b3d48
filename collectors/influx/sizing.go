package influx

import (
	"fmt"
	"time"

	"github.com/roomwatch/roomwatch/collectors"
	"github.com/roomwatch/roomwatch/internal/yamlconf"
)

// Load is what one configured device puts into the spool: a SampleSet of
// Values values every Interval.
type Load struct {
	Values   int
	Interval time.Duration
}

// storeOverhead is what the JetStream file store adds to each message
// besides subject and payload: a 22-byte record header and an 8-byte
// checksum, plus index and block slack rounded up.
const storeOverhead = 64

// headerBytes is the size of a spool message's headers.
var headerBytes = len("NATS/1.0\r\n" + HeaderFormat + ": " + FormatLineProtocol + "\r\n" + HeaderSets + ": 1000\r\n\r\n")

// MessageBytes is the stored size of a SampleSet of n values in the
// spool, measured by encoding a representative one (realistic names,
// units and readings) exactly as Spool.Publish does, as if it were alone
// in its message (the most a set can cost: a burst of polls shares one
// message's subject, headers and store overhead).
func MessageBytes(n int) int64 {
	s := collectors.SampleSet{
		Device: collectors.Device{Site: "hospital-a", Room: "server-room-1", Name: "ups-main-01",
			Profile: "rfc1628-ups", Class: "ups"},
		Time:     time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC),
		Duration: 12345678 * time.Nanosecond,
		Values:   make([]collectors.Value, n),
	}
	for i := range s.Values {
		s.Values[i] = collectors.Value{Name: fmt.Sprintf("input_voltage_%02d_v", i), Unit: "V",
			Kind: collectors.Number, Num: 229.7 + float64(i), Quality: collectors.Good}
	}
	b, _ := (&encoder{}).Append(nil, &s)
	return int64(len(b)+len(Subject(DefaultSubjectPrefix, s.Device.Site))+headerBytes) + storeOverhead
}

// DefaultMaxBytes is the default spool bound for the given devices: what
// they produce in hold (DefaultHold: 72 hours), plus a quarter for
// longer-than-typical names and error texts, and never below MinMaxBytes.
// 200 devices of 12 values polled every second need about 77 GiB for 72
// hours; 20 devices every 10 s need under 1 GiB.
func DefaultMaxBytes(devices []Load, hold time.Duration) yamlconf.Size {
	var total float64
	for _, d := range devices {
		if d.Interval <= 0 {
			continue
		}
		perSec := float64(time.Second) / float64(d.Interval)
		total += perSec * hold.Seconds() * float64(MessageBytes(d.Values))
	}
	total *= 1.25
	if total < MinMaxBytes {
		return MinMaxBytes
	}
	return yamlconf.Size(total)
}
