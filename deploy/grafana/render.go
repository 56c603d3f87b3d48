package grafana

import (
	"fmt"
	"strings"
)

// Grafana's variables used by the queries: $site, $room (the dashboard's
// template variables), $carry_time_min (the room's carry time in
// minutes, a text box), and the ones Grafana sets itself: $timeFilter and
// $__interval (InfluxQL); v.timeRangeStart, v.timeRangeStop, v.windowPeriod
// and v.defaultBucket (Flux).

// influxQL writes q in InfluxQL.
func (q query) influxQL() string {
	var sel []string
	switch {
	case q.carryLine:
		sel = []string{fmt.Sprintf(`%s("%s") * 0 + $carry_time_min AS "carry_time_min"`, q.agg, q.fields[0])}
	case q.carryRatio:
		sel = []string{fmt.Sprintf(`%s("%s") / $carry_time_min * 100 AS "runtime_of_carry_pct"`, q.agg, q.fields[0])}
	case q.goodRatio:
		sel = []string{`100 - 100 * sum("bad_values") / sum("values") AS "good_pct"`}
	default:
		for _, f := range q.fields {
			sel = append(sel, fmt.Sprintf(`%s("%s") AS "%s"`, q.agg, f, f))
		}
	}
	s := fmt.Sprintf(`SELECT %s FROM "%s" WHERE "site" =~ /^$site$/ AND "room" =~ /^$room$/ AND $timeFilter`,
		strings.Join(sel, ", "), q.measurement)
	var group []string
	if q.series {
		group = append(group, "time($__interval)")
	}
	if q.byDevice {
		group = append(group, `"device"`)
	}
	if len(group) > 0 {
		s += " GROUP BY " + strings.Join(group, ", ")
	}
	if q.series {
		if q.agg == "count" {
			s += " fill(0)"
		} else {
			s += " fill(null)"
		}
	}
	return s
}

// alias is the InfluxQL series name pattern of q in p.
func (q query) alias(p panel) string {
	switch {
	case q.carryLine:
		return "要求后备时间 carry time"
	case !q.byDevice:
		return "$col"
	case len(q.fields) == 1 && len(p.queries) == 1:
		return "$tag_device"
	}
	return "$tag_device $col"
}

// flux writes q in Flux. It uses only what Flux 0.65 (InfluxDB 1.8)
// already had, so the same query runs on 1.8 and 2.x.
func (q query) flux() string {
	var b strings.Builder
	b.WriteString("from(bucket: v.defaultBucket)\n")
	b.WriteString("  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n")
	fmt.Fprintf(&b, "  |> filter(fn: (r) => r._measurement == %q and r.site == \"${site}\" and r.room == \"${room}\")\n", q.measurement)
	var fs []string
	for _, f := range q.fields {
		fs = append(fs, fmt.Sprintf("r._field == %q", f))
	}
	fmt.Fprintf(&b, "  |> filter(fn: (r) => %s)\n", strings.Join(fs, " or "))
	keep := `["_time", "_value", "_field", "device"]`
	if !q.byDevice {
		b.WriteString("  |> group(columns: [\"_field\"])\n  |> sort(columns: [\"_time\"])\n")
		keep = `["_time", "_value", "_field"]`
	}
	if q.series {
		fmt.Fprintf(&b, "  |> aggregateWindow(every: v.windowPeriod, fn: %s, createEmpty: false)\n", q.agg)
	} else {
		fmt.Fprintf(&b, "  |> %s()\n", q.agg)
	}
	switch {
	case q.goodRatio:
		keep = `["_value", "_field", "device"]`
	case q.carryRatio:
		// _field leaves the group key before map names the result (a
		// group key column is not rewritten in place).
		keep = `["_time", "_value", "device"]`
	case q.carryLine:
		keep = `["_time", "_value"]`
	}
	fmt.Fprintf(&b, "  |> keep(columns: %s)\n", keep)
	switch {
	case q.carryLine:
		b.WriteString("  |> map(fn: (r) => ({_time: r._time, _field: \"carry_time_min\", _value: float(v: ${carry_time_min})}))\n")
	case q.carryRatio:
		b.WriteString("  |> map(fn: (r) => ({r with _field: \"runtime_of_carry_pct\", _value: float(v: r._value) / float(v: ${carry_time_min}) * 100.0}))\n")
	case q.goodRatio:
		b.WriteString("  |> pivot(rowKey: [\"device\"], columnKey: [\"_field\"], valueColumn: \"_value\")\n")
		b.WriteString("  |> map(fn: (r) => ({device: r.device, _field: \"good_pct\", _value: 100.0 - 100.0 * float(v: r.bad_values) / float(v: r.values)}))\n")
	}
	fmt.Fprintf(&b, "  |> yield(name: %q)", q.ref)
	return b.String()
}

// Template variable queries.
const (
	influxQLSites = `SHOW TAG VALUES FROM "roomwatch_poll" WITH KEY = "site"`
	influxQLRooms = `SHOW TAG VALUES FROM "roomwatch_poll" WITH KEY = "room" WHERE "site" =~ /^$site$/`
)

// fluxTagValues lists the values of tag among roomwatch_poll's series in
// the time range (plain Flux: schema.tagValues is not in InfluxDB 1.8,
// whose Flux also returns nothing for keep → group → distinct).
func fluxTagValues(tag, where string) string {
	return "from(bucket: v.defaultBucket)\n" +
		"  |> range(start: v.timeRangeStart, stop: v.timeRangeStop)\n" +
		"  |> filter(fn: (r) => r._measurement == \"roomwatch_poll\" and r._field == \"reachable\"" + where + ")\n" +
		"  |> last()\n" +
		"  |> group(columns: [\"" + tag + "\"])\n" +
		"  |> distinct(column: \"" + tag + "\")\n" +
		"  |> keep(columns: [\"_value\"])\n" +
		"  |> group()"
}

var (
	fluxSites = fluxTagValues("site", "")
	fluxRooms = fluxTagValues("room", ` and r.site == "${site}"`)
)
