package grafana

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"go.uber.org/goleak"
)

var update = flag.Bool("update", false, "rewrite dashboards/*.json from panels.go")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestDashboardFilesAreGenerated: the shipped JSON is the generator's
// output (go generate ./deploy/grafana rewrites it).
func TestDashboardFilesAreGenerated(t *testing.T) {
	for _, l := range Languages {
		want, err := Dashboard(l)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("dashboards", l.File())
		if *update {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what panels.go generates: run go generate ./deploy/grafana", path)
		}
	}
}

// TestFieldsAreInTheSchema: every field a panel reads is a value of a
// built-in profile of the measurement's class, or a roomwatch_poll field.
func TestFieldsAreInTheSchema(t *testing.T) {
	set := builtinProfiles(t)
	known := map[string]map[string]bool{mPoll: {"duration_s": true, "reachable": true, "values": true, "bad_values": true, "error": true}}
	for _, p := range set {
		m := "roomwatch_" + p.Class
		if known[m] == nil {
			known[m] = map[string]bool{}
		}
		for _, s := range p.Specs() {
			known[m][s.Name] = true
		}
	}
	for _, r := range rows {
		for _, p := range r.panels {
			for _, q := range p.queries {
				for _, f := range q.fields {
					if !known[q.measurement][f] {
						t.Errorf("panel %q query %s: %s has no field %q in any built-in profile", p.title, q.ref, q.measurement, f)
					}
				}
			}
		}
	}
}

// dashboardFile is the part of a dashboard's JSON the test reads.
type dashboardFile struct {
	Title      string `json:"title"`
	Templating struct {
		List []struct {
			Name  string `json:"name"`
			Type  string `json:"type"`
			Query any    `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Panels []struct {
		Type    string `json:"type"`
		Title   string `json:"title"`
		Targets []struct {
			RefID string `json:"refId"`
			Query string `json:"query"`
		} `json:"targets"`
	} `json:"panels"`
}

func readDashboard(t *testing.T, l Language) dashboardFile {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("dashboards", l.File()))
	if err != nil {
		t.Fatal(err)
	}
	var d dashboardFile
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", l.File(), err)
	}
	return d
}

// shipped returns the query of panel title, target ref in d.
func (d dashboardFile) shipped(title, ref string) (string, bool) {
	for _, p := range d.Panels {
		if p.Title != title {
			continue
		}
		for _, tg := range p.Targets {
			if tg.RefID == ref {
				return tg.Query, true
			}
		}
	}
	return "", false
}

func (d dashboardFile) variable(name string) string {
	for _, v := range d.Templating.List {
		if v.Name == name {
			s, _ := v.Query.(string)
			return s
		}
	}
	return ""
}

// The time range and interval the queries run with: the simulated day,
// 5-minute windows (what Grafana picks for 24 h on a wide panel).
var (
	rangeFrom = simDay
	rangeTo   = simDay.Add(24 * time.Hour)
	interval  = "5m"
)

// influxQLVars substitutes the variables as Grafana's InfluxDB data
// source does: $timeFilter as epoch milliseconds, $__interval, and a
// single-value template variable regex-escaped (it stands in /^$site$/).
func influxQLVars(q, room string) string {
	return strings.NewReplacer(
		"$timeFilter", fmt.Sprintf("time >= %dms and time <= %dms", rangeFrom.UnixMilli(), rangeTo.UnixMilli()),
		"$__interval", interval,
		"${carry_time_min}", "60", "$carry_time_min", "60",
		"${site}", regexp.QuoteMeta(simSite), "$site", regexp.QuoteMeta(simSite),
		"${room}", regexp.QuoteMeta(room), "$room", regexp.QuoteMeta(room),
	).Replace(q)
}

// fluxVars substitutes Grafana's Flux macros (replaced as text before
// the query is sent) and the template variables; the bucket of the 1.8
// database is db/rp.
func fluxVars(q, room string) string {
	return strings.NewReplacer(
		"v.defaultBucket", strconv.Quote(influxtest.Database+"/autogen"),
		"v.timeRangeStart", rangeFrom.UTC().Format(time.RFC3339Nano),
		"v.timeRangeStop", rangeTo.UTC().Format(time.RFC3339Nano),
		"v.windowPeriod", interval,
		"${carry_time_min}", "60", "${site}", simSite, "${room}", room,
	).Replace(q)
}

// columns is what q's result must name: its fields, or the computed one.
func (q query) columns() []string {
	switch {
	case q.carryLine:
		return []string{"carry_time_min"}
	case q.carryRatio:
		return []string{"runtime_of_carry_pct"}
	case q.goodRatio:
		return []string{"good_pct"}
	}
	return q.fields
}

// event is what room A's day must show in a column: the dashboard is
// checked to make the day's incidents visible, not only to return rows.
var events = map[string]func(v any) bool{
	"on_battery":           func(v any) bool { return v == true },
	"door_open":            func(v any) bool { return v == true },
	"reachable":            func(v any) bool { return v == false },
	"battery_status":       func(v any) bool { return v == "low" },
	"temperature_c":        func(v any) bool { return num(v) > tempHigh },
	"humidity_pct":         func(v any) bool { return num(v) > rhHigh },
	"runtime_min":          func(v any) bool { return num(v) < 60 },
	"error":                func(v any) bool { return v == "i/o timeout" || num(v) > 0 },
	"good_pct":             func(v any) bool { return num(v) < 100 },
	"runtime_of_carry_pct": func(v any) bool { return num(v) == 150 }, // 90 min of 60 at the day's end
	"carry_time_min":       func(v any) bool { return num(v) == 60 },
}

func num(v any) float64 {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case string:
		f, err := strconv.ParseFloat(x, 64)
		if err == nil {
			return f
		}
	case float64:
		return x
	}
	return 0
}

// TestQueriesOnSimulatedDay writes a simulated day of two rooms into a
// real influxd 1.8.10 (Flux enabled) and runs every panel's query of both
// shipped dashboards, and their template variables, as Grafana would for
// each room: each returns the series of that room's devices (and none of
// the other room's), with the columns the panel shows, and room A's
// incidents are visible in them.
func TestQueriesOnSimulatedDay(t *testing.T) {
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	s := influxtest.StartWith(t, influxtest.Options{Flux: true})
	writeSimDay(t, s)
	iq, fx := readDashboard(t, InfluxQL), readDashboard(t, Flux)

	// Both files list the panels of panels.go, no more.
	nq := 0
	for _, r := range rows {
		nq += 1 + len(r.panels)
	}
	if len(iq.Panels) != nq || len(fx.Panels) != nq {
		t.Fatalf("panels: InfluxQL %d, Flux %d, panels.go %d", len(iq.Panels), len(fx.Panels), nq)
	}

	t.Run("variables", func(t *testing.T) {
		checkInfluxQLValues(t, s, influxQLVars(iq.variable("site"), ""), []string{simSite})
		checkInfluxQLValues(t, s, influxQLVars(iq.variable("room"), ""), []string{roomB, roomA})
		checkFluxValues(t, s, fluxVars(fx.variable("site"), ""), "site", []string{simSite})
		checkFluxValues(t, s, fluxVars(fx.variable("room"), ""), "room", []string{roomB, roomA})
	})

	for _, room := range []string{roomA, roomB} {
		for _, r := range rows {
			for _, p := range r.panels {
				for _, q := range p.queries {
					name := fmt.Sprintf("%s/%s/%s", room, p.title, q.ref)
					t.Run(name+"/influxql", func(t *testing.T) {
						text, ok := iq.shipped(p.title, q.ref)
						if !ok {
							t.Fatalf("%s: no panel %q with query %s", InfluxQL.File(), p.title, q.ref)
						}
						checkInfluxQL(t, s, influxQLVars(text, room), q, room)
					})
					t.Run(name+"/flux", func(t *testing.T) {
						text, ok := fx.shipped(p.title, q.ref)
						if !ok {
							t.Fatalf("%s: no panel %q with query %s", Flux.File(), p.title, q.ref)
						}
						checkFlux(t, s, fluxVars(text, room), q, room)
					})
				}
			}
		}
	}
}

// checkEvent checks that room A's incident in column col shows in values.
func checkEvent(t *testing.T, q query, room, col string, values []any) {
	t.Helper()
	ev, ok := events[col]
	// A latest value shows the end of the day, not its incidents (but the
	// computed values and the last error do).
	latest := !q.series && !q.carryRatio && !q.goodRatio && col != "error"
	if !ok || room != roomA || latest {
		return
	}
	if !slices.ContainsFunc(values, ev) {
		t.Errorf("column %s: the simulated incident does not show in %d values", col, len(values))
	}
}

func checkInfluxQL(t *testing.T, s *influxtest.Server, text string, q query, room string) {
	t.Helper()
	res, err := s.Query(text)
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Series) == 0 {
		t.Fatalf("%s: no series", text)
	}
	want := wantDevices(t, q, room)
	got := map[string]bool{}
	values := map[string][]any{}
	for _, sr := range res[0].Series {
		if sr.Name != q.measurement {
			t.Errorf("series of %s, want %s", sr.Name, q.measurement)
		}
		if q.byDevice {
			got[sr.Tags["device"]] = true
		} else if len(sr.Tags) != 0 {
			t.Errorf("series tagged %v, want one series for the room", sr.Tags)
		}
		if want := append([]string{"time"}, q.columns()...); !slices.Equal(sr.Columns, want) {
			t.Errorf("columns %v, want %v", sr.Columns, want)
		}
		nonNull := 0
		for _, row := range sr.Rows() {
			for c, v := range row {
				if c != "time" && v != nil {
					values[c] = append(values[c], v)
					nonNull++
				}
			}
		}
		if nonNull == 0 {
			t.Errorf("series %v: only nulls", sr.Tags)
		}
	}
	if q.byDevice && !mapsEqual(got, want) {
		t.Errorf("devices %v, want %v (room %s)", keys(got), keys(want), room)
	}
	for _, c := range q.columns() {
		checkEvent(t, q, room, c, values[c])
	}
}

// wantDevices is the devices q must return series of: those of room in
// its measurement; for the poll errors, those that failed.
func wantDevices(t *testing.T, q query, room string) map[string]bool {
	want := devicesOf(t, room, q.measurement)
	if slices.Equal(q.fields, []string{"error"}) {
		for _, d := range simDevices {
			if d.room == room && !slices.ContainsFunc(simTimes(), func(ts time.Time) bool { return unreachable(d, ts) }) {
				delete(want, d.name)
			}
		}
	}
	return want
}

// fluxRow is one row of a Flux result, by column.
type fluxRow map[string]string

// parseFlux reads annotated CSV into rows (all tables).
func parseFlux(t *testing.T, body string) []fluxRow {
	t.Helper()
	r := csv.NewReader(strings.NewReader(body))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatalf("flux CSV: %v\n%s", err, body)
	}
	var header []string
	var out []fluxRow
	for _, rec := range recs {
		if len(rec) == 0 || strings.HasPrefix(rec[0], "#") {
			header = nil
			continue
		}
		if header == nil {
			header = rec
			continue
		}
		row := fluxRow{}
		for i, c := range header {
			if i < len(rec) && c != "" {
				row[c] = rec[i]
			}
		}
		out = append(out, row)
	}
	return out
}

func checkFlux(t *testing.T, s *influxtest.Server, text string, q query, room string) {
	t.Helper()
	body, err := s.QueryFlux(text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	rows := parseFlux(t, body)
	if len(rows) == 0 {
		t.Fatalf("no rows:\n%s", text)
	}
	want := wantDevices(t, q, room)
	got := map[string]bool{}
	fields := map[string]bool{}
	values := map[string][]any{}
	for _, r := range rows {
		if d, ok := r["device"]; ok {
			got[d] = true
		} else if q.byDevice {
			t.Errorf("row without device: %v", r)
		}
		if _, ok := r["_value"]; !ok {
			t.Fatalf("row without _value: %v", r)
		}
		fields[r["_field"]] = true
		var v any = r["_value"]
		switch r["_value"] {
		case "true":
			v = true
		case "false":
			v = false
		}
		values[r["_field"]] = append(values[r["_field"]], v)
	}
	if q.byDevice && !mapsEqual(got, want) {
		t.Errorf("devices %v, want %v (room %s)", keys(got), keys(want), room)
	}
	if !q.byDevice && len(got) != 0 {
		t.Errorf("rows per device %v, want the room as a whole", keys(got))
	}
	wantFields := map[string]bool{}
	for _, c := range q.columns() {
		wantFields[c] = true
	}
	if !mapsEqual(fields, wantFields) {
		t.Errorf("fields %v, want %v", keys(fields), keys(wantFields))
	}
	for _, c := range q.columns() {
		checkEvent(t, q, room, c, values[c])
	}
}

func checkInfluxQLValues(t *testing.T, s *influxtest.Server, text string, want []string) {
	t.Helper()
	res, err := s.Query(text)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, sr := range res[0].Series {
		for _, row := range sr.Rows() {
			got = append(got, fmt.Sprint(row["value"]))
		}
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s: %v, want %v", text, got, want)
	}
}

func checkFluxValues(t *testing.T, s *influxtest.Server, text, tag string, want []string) {
	t.Helper()
	body, err := s.QueryFlux(text)
	if err != nil {
		t.Fatalf("%v\n%s", err, text)
	}
	var got []string
	for _, r := range parseFlux(t, body) {
		got = append(got, r["_value"])
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("%s: %v, want %v", text, got, want)
	}
}

func mapsEqual(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if !b[k] {
			return false
		}
	}
	return true
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
