// Package grafana generates roomwatch's Grafana dashboards, one for
// InfluxDB 1.8 (InfluxQL) and one for InfluxDB 2.x (Flux), from the one
// list of panels in this file, so the two cannot drift apart. The JSON
// files in dashboards/ are its output: `go generate ./deploy/grafana`
// rewrites them, and the package test fails when they differ from what
// the generator makes, then runs every query of the shipped JSON against
// a real influxd after a simulated day (see dashboard_test.go).
package grafana

//go:generate go test -run TestDashboardFilesAreGenerated -update .

// The measurements of collectors/influx/schema.go.
const (
	mUPS  = "roomwatch_ups"
	mEnv  = "roomwatch_env"
	mDI   = "roomwatch_di"
	mPoll = "roomwatch_poll"
)

// GB 50174-2017 class A/B machine room: 18–27 °C, relative humidity
// ≤ 60 % (the limits rules/default.yaml alarms on).
const (
	tempLow  = 18
	tempHigh = 27
	rhHigh   = 60
)

// query is one panel query in neutral form; render.go writes it in
// InfluxQL and in Flux.
type query struct {
	ref         string
	measurement string
	fields      []string // field names of the schema (checked against the profiles by the test)
	agg         string   // mean, max, last, sum, count: per window (series) or over the range
	series      bool     // a time series in $__interval windows; false: one value per device over the range
	byDevice    bool     // one series per device (else the room as a whole)
	// special computations, each rendered in both languages
	carryLine  bool // a flat line at $carry_time_min over the windows of fields[0]
	carryRatio bool // last(fields[0]) as a percentage of $carry_time_min
	goodRatio  bool // 100 × (1 − Σbad_values / Σvalues)
}

// mapping is a value shown as a text in a colour.
type mapping struct {
	value, text, color string
}

// step is a threshold: from value on (nil: from −∞), color.
type step struct {
	value *float64
	color string
}

func at(v float64) *float64 { return &v }

// panel is one panel of the dashboard.
type panel struct {
	title, desc string // title in Chinese, description in English
	kind        string // timeseries, stat, gauge, state-timeline, table
	unit        string
	min, max    *float64
	decimals    *float64
	steps       []step
	area        bool // draw the thresholds as regions (timeseries)
	mappings    []mapping
	// refMappings are mappings for the series of one query (ref).
	refMappings map[string][]mapping
	noValue     string
	w, h        int
	queries     []query
}

// row is a titled group of panels.
type row struct {
	title  string
	panels []panel
}

// boolOK maps false (green) and true (red) to texts.
func boolOK(okText, badText string) []mapping {
	return []mapping{{"false", okText, "green"}, {"true", badText, "red"}}
}

var (
	tempSteps = []step{{nil, "blue"}, {at(tempLow), "green"}, {at(tempHigh), "red"}}
	rhSteps   = []step{{nil, "green"}, {at(rhHigh), "red"}}
)

// rows is the dashboard: one room ($site, $room) from top to bottom.
var rows = []row{
	{title: "UPS 不间断电源", panels: []panel{
		{title: "供电状态（市电/电池）", kind: "state-timeline", w: 24, h: 4,
			desc:     "Mains or battery, per UPS: the last on_battery of each interval (a short episode shows in the alarms and the daily record even when an interval hides it).",
			mappings: boolOK("市电 Mains", "电池 On battery"),
			queries:  []query{{ref: "A", measurement: mUPS, fields: []string{"on_battery"}, agg: "last", series: true, byDevice: true}}},
		{title: "后备时间 / 要求（当前）", kind: "stat", unit: "percent", w: 6, h: 8, decimals: at(0),
			desc:    "Battery runtime at the present load as a share of the room's required carry time ($carry_time_min min, the room's carry_time in roomwatch.yaml): red below 100 %, yellow below 110 % (where the runtime alarm clears).",
			steps:   []step{{nil, "red"}, {at(100), "yellow"}, {at(110), "green"}},
			queries: []query{{ref: "A", measurement: mUPS, fields: []string{"runtime_min"}, agg: "last", byDevice: true, carryRatio: true}}},
		{title: "剩余后备时间", kind: "timeseries", unit: "m", w: 10, h: 8, min: at(0),
			desc: "Estimated battery runtime (runtime_min) per UPS, against the room's required carry time (the flat line, $carry_time_min min).",
			queries: []query{
				{ref: "A", measurement: mUPS, fields: []string{"runtime_min"}, agg: "mean", series: true, byDevice: true},
				{ref: "B", measurement: mUPS, fields: []string{"runtime_min"}, agg: "mean", series: true, carryLine: true},
			}},
		{title: "电池电量", kind: "gauge", unit: "percent", w: 4, h: 8, min: at(0), max: at(100),
			desc:    "Battery charge (charge_pct), latest per UPS.",
			steps:   []step{{nil, "red"}, {at(50), "yellow"}, {at(90), "green"}},
			queries: []query{{ref: "A", measurement: mUPS, fields: []string{"charge_pct"}, agg: "last", byDevice: true}}},
		{title: "负载率", kind: "gauge", unit: "percent", w: 4, h: 8, min: at(0), max: at(100),
			desc:    "Output load (load_pct), latest per UPS; overload alarms at 80 % and 95 %.",
			steps:   []step{{nil, "green"}, {at(80), "orange"}, {at(95), "red"}},
			queries: []query{{ref: "A", measurement: mUPS, fields: []string{"load_pct"}, agg: "last", byDevice: true}}},
		{title: "电池电量与负载率", kind: "timeseries", unit: "percent", w: 12, h: 8, min: at(0), max: at(100),
			desc:    "Battery charge and output load (charge_pct, load_pct) per UPS.",
			queries: []query{{ref: "A", measurement: mUPS, fields: []string{"charge_pct", "load_pct"}, agg: "mean", series: true, byDevice: true}}},
		{title: "电池状态", kind: "state-timeline", w: 12, h: 8,
			desc: "Battery status reported by the UPS (battery_status: normal, low, depleted, fault, unknown).",
			mappings: []mapping{{"normal", "正常 normal", "green"}, {"low", "电量低 low", "orange"},
				{"depleted", "耗尽 depleted", "red"}, {"fault", "故障 fault", "red"}, {"unknown", "未知 unknown", "gray"}},
			queries: []query{{ref: "A", measurement: mUPS, fields: []string{"battery_status"}, agg: "last", series: true, byDevice: true}}},
	}},
	{title: "温湿度 Temperature and humidity (GB 50174-2017)", panels: []panel{
		{title: "温度", kind: "timeseries", unit: "celsius", w: 9, h: 8, min: at(10), max: at(35), steps: tempSteps, area: true,
			desc:    "Temperature (temperature_c) per sensor; green is the GB 50174-2017 band for class A/B rooms, 18–27 °C.",
			queries: []query{{ref: "A", measurement: mEnv, fields: []string{"temperature_c"}, agg: "mean", series: true, byDevice: true}}},
		{title: "湿度", kind: "timeseries", unit: "humidity", w: 9, h: 8, min: at(0), max: at(100), steps: rhSteps, area: true,
			desc:    "Relative humidity (humidity_pct) per sensor; GB 50174-2017 allows at most 60 %.",
			queries: []query{{ref: "A", measurement: mEnv, fields: []string{"humidity_pct"}, agg: "mean", series: true, byDevice: true}}},
		{title: "当前温度", kind: "stat", unit: "celsius", w: 3, h: 8, decimals: at(1), steps: tempSteps,
			desc:    "Latest temperature per sensor, coloured by the 18–27 °C band.",
			queries: []query{{ref: "A", measurement: mEnv, fields: []string{"temperature_c"}, agg: "last", byDevice: true}}},
		{title: "当前湿度", kind: "stat", unit: "humidity", w: 3, h: 8, decimals: at(0), steps: rhSteps,
			desc:    "Latest relative humidity per sensor, red above 60 %.",
			queries: []query{{ref: "A", measurement: mEnv, fields: []string{"humidity_pct"}, agg: "last", byDevice: true}}},
	}},
	{title: "开关量 Discrete sensors", panels: []panel{
		{title: "门磁、防雷器、漏水、烟感", kind: "state-timeline", w: 24, h: 8,
			desc: "Door contact, surge protector (SPD), water leak and smoke detector per input module: the last state of each interval.",
			refMappings: map[string][]mapping{
				"A": boolOK("关门 closed", "开门 open"),
				"B": boolOK("正常 normal", "故障 fault"),
				"C": boolOK("无水 dry", "漏水 leak"),
				"D": boolOK("无烟 clear", "烟雾 smoke"),
			},
			queries: []query{
				{ref: "A", measurement: mDI, fields: []string{"door_open"}, agg: "last", series: true, byDevice: true},
				{ref: "B", measurement: mDI, fields: []string{"spd_fault"}, agg: "last", series: true, byDevice: true},
				{ref: "C", measurement: mDI, fields: []string{"water_leak"}, agg: "last", series: true, byDevice: true},
				{ref: "D", measurement: mDI, fields: []string{"smoke"}, agg: "last", series: true, byDevice: true},
			}},
	}},
	{title: "设备与采集 Devices and polling", panels: []panel{
		{title: "设备在线", kind: "state-timeline", w: 24, h: 6,
			desc:     "Whether each device answered its poll (roomwatch_poll reachable): the last poll of each interval.",
			mappings: []mapping{{"true", "在线 up", "green"}, {"false", "离线 down", "red"}},
			queries:  []query{{ref: "A", measurement: mPoll, fields: []string{"reachable"}, agg: "last", series: true, byDevice: true}}},
		{title: "失败的轮询", kind: "timeseries", unit: "short", w: 8, h: 8, min: at(0), noValue: "0",
			desc:    "Polls that failed (no answer: roomwatch_poll error) per device and interval; none is good.",
			queries: []query{{ref: "A", measurement: mPoll, fields: []string{"error"}, agg: "count", series: true, byDevice: true}}},
		{title: "轮询耗时", kind: "timeseries", unit: "s", w: 8, h: 8, min: at(0),
			desc:    "Longest poll per device and interval (roomwatch_poll duration_s), retries included.",
			queries: []query{{ref: "A", measurement: mPoll, fields: []string{"duration_s"}, agg: "max", series: true, byDevice: true}}},
		{title: "数据完好率", kind: "stat", unit: "percent", w: 4, h: 8, decimals: at(2), min: at(0), max: at(100),
			desc:    "Share of the values polled in the time range that were good (not sensor-fault or comms-lost), per device.",
			steps:   []step{{nil, "red"}, {at(99), "yellow"}, {at(99.9), "green"}},
			queries: []query{{ref: "A", measurement: mPoll, fields: []string{"values", "bad_values"}, agg: "sum", byDevice: true, goodRatio: true}}},
		{title: "最近一次轮询错误", kind: "table", w: 4, h: 8,
			desc:    "The last poll error per device in the time range (empty: no failure).",
			queries: []query{{ref: "A", measurement: mPoll, fields: []string{"error"}, agg: "last", byDevice: true}}},
	}},
}
