package collectors

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Title is a name for people, by language: what alarm texts, the patrol
// screen and CLI tables show instead of an identifier.
type Title struct {
	Zh string `yaml:"zh" json:"zh,omitempty"`
	En string `yaml:"en" json:"en,omitempty"`
}

// In returns the title in lang ("zh" or "en"), the other language's when
// that one is empty.
func (t Title) In(lang string) string {
	if lang == "zh" && t.Zh != "" || t.En == "" {
		return t.Zh
	}
	return t.En
}

// IsZero reports whether the title has no text in any language.
func (t Title) IsZero() bool { return t.Zh == "" && t.En == "" }

// valueTitles are the display names of the canonical value names the
// built-in profiles, the NUT mapping and the rules use. A profile's own
// title wins; ValueTitle falls back to this table, then to a readable
// form of the name.
var valueTitles = map[string]Title{
	"temperature_c":        {"温度", "temperature"},
	"humidity_pct":         {"湿度", "humidity"},
	"dew_point_c":          {"露点", "dew point"},
	"on_battery":           {"电池供电", "on battery"},
	"runtime_min":          {"电池后备时间", "battery runtime"},
	"charge_pct":           {"电池电量", "battery charge"},
	"battery_status":       {"电池状态", "battery status"},
	"battery_voltage_v":    {"电池电压", "battery voltage"},
	"battery_temp_c":       {"电池温度", "battery temperature"},
	"battery_current_a":    {"电池电流", "battery current"},
	"seconds_on_battery":   {"电池供电时长", "time on battery"},
	"replace_battery":      {"需更换电池", "replace battery"},
	"battery_state":        {"电池充电状态", "battery charge state"},
	"battery_charge_state": {"电池充电状态", "battery charge state"},
	"battery_low":          {"电池电量低", "battery low"},
	"battery_charger":      {"充电器状态", "charger state"},
	"input_voltage_v":      {"输入电压", "input voltage"},
	"input_frequency_hz":   {"输入频率", "input frequency"},
	"input_current_a":      {"输入电流", "input current"},
	"output_voltage_v":     {"输出电压", "output voltage"},
	"output_frequency_hz":  {"输出频率", "output frequency"},
	"output_current_a":     {"输出电流", "output current"},
	"output_power_w":       {"输出功率", "output power"},
	"output_power_kw":      {"输出功率", "output power"},
	"output_source":        {"输出来源", "output source"},
	"load_pct":             {"输出负载", "output load"},
	"alarms_present":       {"UPS 告警数", "UPS alarms"},
	"ups_temp_c":           {"UPS 内部温度", "UPS temperature"},
	"on_bypass":            {"旁路供电", "on bypass"},
	"model":                {"型号", "model"},
	"door_open":            {"门磁", "door"},
	"spd_fault":            {"防雷器", "lightning protector"},
	"water_leak":           {"漏水", "water leak"},
	"smoke":                {"烟感", "smoke"},
	"spool_dropped":        {"丢弃的缓存数据", "dropped spool messages"},
}

// words translate the parts of a value name no table knows
// (battery_temp_c → 电池温度, battery temperature).
var words = map[string]Title{
	"temperature": {"温度", "temperature"}, "temp": {"温度", "temperature"},
	"humidity": {"湿度", "humidity"}, "dew": {"露", "dew"}, "point": {"点", "point"},
	"battery": {"电池", "battery"}, "input": {"输入", "input"}, "output": {"输出", "output"},
	"voltage": {"电压", "voltage"}, "current": {"电流", "current"}, "frequency": {"频率", "frequency"},
	"freq": {"频率", "frequency"}, "load": {"负载", "load"}, "power": {"功率", "power"},
	"charge": {"电量", "charge"}, "runtime": {"后备时间", "runtime"}, "bypass": {"旁路", "bypass"},
	"status": {"状态", "status"}, "state": {"状态", "state"}, "fault": {"故障", "fault"},
	"alarm": {"告警", "alarm"}, "alarms": {"告警", "alarms"}, "door": {"门", "door"},
	"water": {"水", "water"}, "leak": {"漏", "leak"}, "smoke": {"烟感", "smoke"},
	"fan": {"风扇", "fan"}, "inlet": {"进风", "inlet"}, "outlet": {"出风", "outlet"},
	"ambient": {"环境", "ambient"}, "probe": {"探头", "probe"}, "sensor": {"传感器", "sensor"},
	"low": {"低", "low"}, "high": {"高", "high"}, "charger": {"充电器", "charger"},
	"phase": {"相", "phase"}, "ups": {"UPS", "UPS"}, "rack": {"机柜", "rack"},
	"apparent": {"视在", "apparent"}, "active": {"有功", "active"}, "energy": {"电能", "energy"},
	"time": {"时间", "time"}, "remaining": {"剩余", "remaining"}, "seconds": {"秒数", "seconds"},
	"on": {"", "on"}, "of": {"", "of"},
}

// unitWords are name suffixes that only carry the unit.
var unitWords = map[string]bool{
	"c": true, "pct": true, "v": true, "a": true, "hz": true, "min": true, "s": true, "h": true,
	"w": true, "kw": true, "va": true, "kva": true, "kwh": true, "ma": true, "ms": true,
}

// rowSuffix is what a walked table row adds to a value name: _l2, _2.
var rowSuffix = regexp.MustCompile(`^(.+)_(l?)(\d+)$`)

// ValueTitle returns the display name of a value called name: the
// built-in table's, else the title of its table column plus the row
// (input_voltage_v_l2 → 输入电压 L2), else the name's words translated one
// by one with the unit left out (battery_temp_c → 电池温度), an unknown
// word kept as a word, never as the identifier.
func ValueTitle(name string) Title {
	if t, ok := valueTitles[name]; ok {
		return t
	}
	if m := rowSuffix.FindStringSubmatch(name); m != nil {
		if t, ok := valueTitles[m[1]]; ok {
			return RowTitle(t, m[2]+m[3])
		}
	}
	return readable(name)
}

// RowTitle is the title of one row of a table column titled t; row is
// the suffix the row adds to the value name: a phase (l2 → L2), an index
// (1_1 → 1.1) or the probe's own name as a key (rack_3_top → rack 3 top).
func RowTitle(t Title, row string) Title {
	digits := func(s string) bool { return s != "" && strings.Trim(s, "0123456789") == "" }
	parts := strings.Split(row, "_")
	switch {
	case len(row) > 1 && (row[0] == 'l' || row[0] == 'L') && digits(row[1:]):
		row = "L" + row[1:]
	case !slices.ContainsFunc(parts, func(p string) bool { return !digits(p) }):
		row = strings.Join(parts, ".")
	default:
		row = strings.Join(strings.FieldsFunc(row, func(r rune) bool { return r == '_' }), " ")
	}
	return Title{Zh: t.Zh + " " + row, En: t.En + " " + row}
}

// readable turns an unknown identifier into words: known words
// translated, units dropped, the rest kept with spaces between them.
func readable(name string) Title {
	parts := strings.FieldsFunc(name, func(r rune) bool { return r == '_' || r == '.' || r == '-' || unicode.IsSpace(r) })
	var kept []string
	for i, p := range parts {
		if i > 0 && unitWords[strings.ToLower(p)] {
			continue
		}
		kept = append(kept, p)
	}
	if len(kept) == 0 {
		kept = parts
	}
	var zh, en []string
	for _, p := range kept {
		lp := strings.ToLower(p)
		w, ok := words[lp]
		switch {
		case !ok:
			zh, en = append(zh, p), append(en, p)
		default:
			if w.Zh != "" {
				zh = append(zh, w.Zh)
			}
			en = append(en, w.En)
		}
	}
	return Title{Zh: joinZh(zh), En: strings.Join(en, " ")}
}

// joinZh joins words as Chinese is written: no space between Chinese
// words, one around a Latin word or a number.
func joinZh(ws []string) string {
	var b strings.Builder
	for i, w := range ws {
		if i > 0 {
			prev, _ := utf8.DecodeLastRuneInString(ws[i-1])
			next, _ := utf8.DecodeRuneInString(w)
			if prev < utf8.RuneSelf || next < utf8.RuneSelf {
				b.WriteByte(' ')
			}
		}
		b.WriteString(w)
	}
	return b.String()
}

// stateTitles are the display names of the labels of enumerated values
// (battery_status low → 低).
var stateTitles = map[string]Title{
	"normal": {"正常", "normal"}, "low": {"电量低", "low"}, "depleted": {"耗尽", "depleted"},
	"fault": {"故障", "fault"}, "unknown": {"未知", "unknown"}, "battery": {"电池", "battery"},
	"bypass": {"旁路", "bypass"}, "none": {"无输出", "none"}, "other": {"其他", "other"},
	"booster": {"升压", "booster"}, "reducer": {"降压", "reducer"}, "charging": {"充电中", "charging"},
	"discharging": {"放电中", "discharging"}, "floating": {"浮充", "floating"}, "resting": {"静置", "resting"},
	"ok": {"正常", "ok"}, "online": {"在线", "online"}, "full": {"已充满", "full"},
	"not_full": {"未充满", "not full"}, "not_connected": {"未连接", "not connected"}, "idle": {"空闲", "idle"},
	"hibernation": {"休眠", "hibernation"}, "float": {"浮充", "float charging"},
	"float_charging": {"浮充", "float charging"}, "equalizing": {"均充", "equalizing"},
}

// StateTitle returns the display name of an enumeration label; a label
// it does not know is returned with its underscores as spaces.
func StateTitle(label string) Title {
	if t, ok := stateTitles[strings.ToLower(label)]; ok {
		return t
	}
	l := strings.ReplaceAll(label, "_", " ")
	return Title{Zh: l, En: l}
}
