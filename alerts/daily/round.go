package daily

import (
	"encoding/json"
	"math"
)

// The record keeps durations and statistics at full precision while it
// counts; its JSON form, which people read (patrol screen, exports),
// rounds them: durations to the second, means to 0.01, availability to
// 0.0001 (54.99947886099999 s is written 55).

// roundTo rounds x to digits decimals.
func roundTo(x float64, digits int) float64 {
	p := math.Pow10(digits)
	return math.Round(x*p) / p
}

// secs rounds a duration in seconds to the second.
func secs(x float64) float64 { return math.Round(x) }

// MarshalJSON writes the summary with durations rounded.
func (s Summary) MarshalJSON() ([]byte, error) {
	type plain Summary
	p := plain(s)
	p.MainsLossS, p.OutOfRangeS, p.CommsLostS = secs(p.MainsLossS), secs(p.OutOfRangeS), secs(p.CommsLostS)
	p.MinAvailability = roundTo(p.MinAvailability, 4)
	return json.Marshal(p)
}

// MarshalJSON writes the device's day with durations rounded.
func (d DeviceDay) MarshalJSON() ([]byte, error) {
	type plain DeviceDay
	p := plain(d)
	p.CommsLostS = secs(p.CommsLostS)
	p.Availability = roundTo(p.Availability, 4)
	return json.Marshal(p)
}

// MarshalJSON writes the statistics with the time out of range in whole
// seconds and the mean to 0.01.
func (a Analog) MarshalJSON() ([]byte, error) {
	type plain Analog
	p := plain(a)
	p.Hours = a.hourList()
	p.OutOfRangeS = secs(p.OutOfRangeS)
	p.Mean = roundTo(p.Mean, 2)
	return json.Marshal(p)
}

// MarshalJSON writes the sensor's day with its alarm time rounded.
func (x Discrete) MarshalJSON() ([]byte, error) {
	type plain Discrete
	p := plain(x)
	p.AlarmS = secs(p.AlarmS)
	return json.Marshal(p)
}

// MarshalJSON writes the door's day with its open time rounded.
func (d Door) MarshalJSON() ([]byte, error) {
	type plain Door
	p := plain(d)
	p.OpenS = secs(p.OpenS)
	return json.Marshal(p)
}

// MarshalJSON writes the mains-loss episodes with their time rounded.
func (m Mains) MarshalJSON() ([]byte, error) {
	type plain Mains
	p := plain(m)
	p.BatteryS = secs(p.BatteryS)
	return json.Marshal(p)
}

// MarshalJSON writes the episode with its duration rounded.
func (e Episode) MarshalJSON() ([]byte, error) {
	type plain Episode
	p := plain(e)
	p.DurationS = secs(p.DurationS)
	return json.Marshal(p)
}

// MarshalJSON writes the hour with its mean to 0.01.
func (h Hour) MarshalJSON() ([]byte, error) {
	type plain Hour
	p := plain(h)
	p.Mean = roundTo(p.Mean, 2)
	return json.Marshal(p)
}
