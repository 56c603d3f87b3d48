package patrol

import (
	"fmt"
	"math"
	"net/http"
	"time"
)

// Languages: Chinese first, English on request (?lang=en or the lang
// cookie).
const (
	LangZH = "zh"
	LangEN = "en"
)

// langOf picks the request's language: ?lang= wins and is kept in a
// cookie by the middleware; default Chinese.
func langOf(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == LangEN || l == LangZH {
		return l
	}
	if c, err := r.Cookie("lang"); err == nil && (c.Value == LangEN || c.Value == LangZH) {
		return c.Value
	}
	return LangZH
}

// messages holds every text a person reads, by key: Chinese, English.
var messages = map[string][2]string{
	"app":                {"机房巡检", "Machine room patrol"},
	"overview":           {"总览", "Overview"},
	"history":            {"历史记录", "History"},
	"alarms":             {"告警", "Alarms"},
	"audit":              {"审计", "Audit"},
	"login":              {"登录", "Log in"},
	"logout":             {"退出", "Log out"},
	"user":               {"用户名", "User name"},
	"password":           {"密码", "Password"},
	"switch_lang":        {"English", "中文"},
	"room":               {"机房", "Room"},
	"date":               {"日期", "Date"},
	"status":             {"状态", "Status"},
	"st_ok":              {"正常", "Normal"},
	"st_warning":         {"注意", "Warning"},
	"st_alarm":           {"告警", "Alarm"},
	"st_nodata":          {"无数据", "No data"},
	"ok":                 {"正常", "Normal"},
	"abnormal":           {"异常", "Abnormal"},
	"nodata":             {"无数据", "No data"},
	"signed":             {"已签名", "Signed"},
	"unsigned":           {"未签名", "Not signed"},
	"firing":             {"未恢复告警", "Firing alarms"},
	"unacked":            {"未确认", "Unacknowledged"},
	"sec_power":          {"供电", "Power"},
	"sec_env":            {"环境", "Environment"},
	"sec_spd":            {"防雷", "Lightning protection"},
	"sec_door":           {"门禁", "Doors"},
	"sec_water":          {"水浸与烟感", "Water and smoke"},
	"sec_comms":          {"设备通信", "Device communications"},
	"sec_alarms":         {"当日告警", "Alarms of the day"},
	"sec_manual":         {"人工检查", "Manual checks"},
	"item_source":        {"市电/电池", "Mains or battery"},
	"item_mains_loss":    {"市电中断", "Mains-loss episodes"},
	"item_runtime":       {"电池后备时间", "Battery runtime left"},
	"item_charge":        {"电池电量", "Battery charge"},
	"item_load":          {"负载率", "Load"},
	"item_batt_temp":     {"电池温度", "Battery temperature"},
	"item_temperature":   {"温度", "Temperature"},
	"item_humidity":      {"湿度", "Humidity"},
	"item_spd_fault":     {"防雷器", "Surge protector"},
	"item_water_leak":    {"漏水", "Water leak"},
	"item_smoke":         {"烟感", "Smoke"},
	"item_door":          {"门", "Door"},
	"item_comms":         {"通信", "Communications"},
	"item_alarms":        {"告警处理", "Alarm handling"},
	"on_mains":           {"当前市电供电", "On mains now"},
	"on_battery_since":   {"当前电池供电，自 %s 起", "On battery now, since %s"},
	"episodes":           {"市电中断 %d 次，共 %s", "%d mains-loss episode(s), %s in all"},
	"episode":            {"%s – %s（%s）", "%s – %s (%s)"},
	"no_episode":         {"当日无市电中断", "No mains loss today"},
	"continues":          {"持续中", "ongoing"},
	"runtime_vs":         {"剩余 %s，要求后备 %s", "%s left, required carry time %s"},
	"runtime_nocarry":    {"剩余 %s（未配置后备时间要求）", "%s left (no carry time configured)"},
	"runtime_min":        {"当日最低 %s（%s）", "Lowest today %s (%s)"},
	"now_min_max":        {"当前 %s；最低 %s（%s）；最高 %s（%s）", "Now %s; min %s (%s); max %s (%s)"},
	"range":              {"合格范围 %s", "Acceptable %s"},
	"out_of_range":       {"超出范围 %s，%d 次", "Out of range %s, %d time(s)"},
	"in_range":           {"全天在范围内", "Within range all day"},
	"faults":             {"传感器故障读数 %d 次", "%d sensor-fault reading(s)"},
	"discrete_state":     {"当日最差：%s；当前：%s", "Worst today: %s; now: %s"},
	"discrete_alarm":     {"报警 %d 次，共 %s，首次 %s", "Alarmed %d time(s), %s in all, first at %s"},
	"state_ok":           {"正常", "normal"},
	"state_alarm":        {"报警", "alarm"},
	"state_comms-lost":   {"通信中断", "comms lost"},
	"state_sensor-fault": {"传感器故障", "sensor fault"},
	"door_counts":        {"开门 %d 次，其中非工作时间 %d 次；累计开门 %s", "Opened %d time(s), %d after hours; open %s in all"},
	"door_last":          {"最近一次开门 %s", "Last opened %s"},
	"door_open_now":      {"门当前敞开", "Door open now"},
	"comms":              {"可用率 %s；通信中断 %s；%s", "Availability %s; comms lost %s; %s"},
	"reachable":          {"当前在线", "reachable now"},
	"unreachable":        {"当前离线", "unreachable now"},
	"last_poll":          {"最近采集 %s", "Last poll %s"},
	"alarm_counts":       {"告警 %d 条，未恢复 %d 条，未确认 %d 条", "%d alarm(s), %d active, %d unacknowledged"},
	"no_alarms":          {"当日无告警", "No alarms today"},
	"chart_stats_only":   {"记录只含当日统计（最低/最高/最新），无逐时序列：图中为这三点与合格范围", "The record holds the day's statistics only (min/max/latest), no series: the chart shows those points and the acceptable band"},
	"chart_hourly":       {"逐小时：竖线为该小时最低–最高，折线连接各小时均值，绿色为合格范围，红色为超出范围的小时", "Hour by hour: bars span each hour's min–max, the line joins the hourly means; green is the acceptable band, red the hours out of it"},
	"chart_timeline":     {"图中红色为电池供电时段", "Red marks time on battery"},
	"no_device":          {"本机房无此类设备", "No such device in this room"},
	"no_record":          {"尚无当日记录（监测程序未写入）", "No record for this day yet (the monitor has not written one)"},
	"stale":              {"数据停止更新于 %s", "Data stopped at %s"},
	"told":               {"通知", "Told"},
	"acked":              {"确认", "Acknowledged"},
	"ack":                {"确认告警", "Acknowledge"},
	"comment":            {"备注", "Comment"},
	"started":            {"开始", "Started"},
	"ended":              {"恢复", "Resolved"},
	"severity":           {"级别", "Severity"},
	"sev_critical":       {"紧急", "critical"},
	"sev_major":          {"重要", "major"},
	"sev_minor":          {"次要", "minor"},
	"sev_warning":        {"提示", "warning"},
	"nobody_told":        {"无通知记录", "no notification recorded"},
	"not_acked":          {"未确认", "not acknowledged"},
	"result_ok":          {"正常", "OK"},
	"result_abnormal":    {"异常", "Abnormal"},
	"remark":             {"备注", "Remark"},
	"save":               {"保存", "Save"},
	"sign":               {"签名确认", "Sign"},
	"sign_remarks":       {"巡检意见", "Remarks"},
	"sign_need_scan":     {"签名前请扫描张贴在本机房的二维码（%s 分钟内有效）", "Scan the code posted in this room before signing (valid %s minutes)"},
	"presence_ok":        {"已于 %s 扫码确认到场", "Presence confirmed by scan at %s"},
	"locked":             {"本记录已签名锁定，更正须另立修订版本", "This record is signed and locked; a correction is a new revision"},
	"signature":          {"签名", "Signature"},
	"signed_by":          {"签名人", "Signed by"},
	"signed_at":          {"签名时间", "Signed at"},
	"signed_from":        {"签名地点", "Signed from"},
	"presence_at":        {"到场扫码", "Presence scan"},
	"revision":           {"版本", "Revision"},
	"revisions":          {"历次版本", "Revisions"},
	"superseded":         {"已被修订", "superseded"},
	"reason":             {"更正原因", "Reason for correction"},
	"revise":             {"提交更正（新版本）", "Submit correction (new revision)"},
	"print":              {"打印", "Print"},
	"qr":                 {"机房二维码", "Room code"},
	"qr_help":            {"打印后张贴于巡检点。巡检人员用手机扫描后方可签名。有效期至 %s。", "Print and post at the patrol point. Scanning it with a phone allows signing. Valid until %s."},
	"csv":                {"导出 CSV", "Export CSV"},
	"from":               {"从", "From"},
	"to":                 {"到", "To"},
	"show":               {"查看", "Show"},
	"error":              {"出错了", "Something went wrong"},
	"back":               {"返回总览", "Back to the overview"},
	"live":               {"实时", "Live"},
	"updated":            {"更新于", "Updated"},
	"prev_day":           {"前一天", "Previous day"},
	"next_day":           {"后一天", "Next day"},
	"verdict":            {"结论", "Verdict"},
	"evidence":           {"依据", "Evidence"},
	"item":               {"项目", "Item"},
	"not_checked":        {"未检查", "Not checked"},
	"site":               {"院区", "Site"},
	"sign_block":         {"巡检人签字：", "Inspector's signature:"},
	"reviewer_block":     {"审核人签字：", "Reviewer's signature:"},
	"chain_ok":           {"审计链完整：%d 条", "Audit chain intact: %d entries"},
	"action":             {"动作", "Action"},
	"actor":              {"操作人", "Actor"},
	"time":               {"时间", "Time"},
	"incidents":          {"事件", "Incidents"},
	"incident":           {"事件报告", "Incident report"},
	"deadline_national":  {"国家规定上报期限", "National report deadline"},
	"deadline_hospital":  {"院内上报期限", "Hospital report deadline"},
	"impact":             {"影响", "Impact"},
	"responsible":        {"负责人", "Responsible"},
	"missing_sources":    {"未能读取：%s", "Could not read: %s"},
	"facts":              {"当日记录", "Facts of the day"},
	"save_revision":      {"保存（新版本）", "Save (new revision)"},
	"deadline":           {"上报期限", "Report deadline"},
	"left":               {"剩余 %s", "%s left"},
	"overdue":            {"已超时 %s", "overdue by %s"},
	"reported":           {"已上报", "reported"},
	"opened":             {"立案时间", "Opened"},
	"class":              {"类别", "Class"},
	"timeline":           {"经过", "Timeline"},
	"tl_told":            {"已通知 %s", "%s told"},
	"tl_acked":           {"%s 确认告警", "acknowledged by %s"},
	"cause":              {"原因分析", "Cause"},
	"measures":           {"处置措施", "Measures taken"},
	"sign_report":        {"签名并定稿", "Sign the report"},
	"no_incidents":       {"无事件", "No incidents"},
}

// tr returns the text of key in lang, formatted with args.
func tr(lang, key string, args ...any) string {
	m, ok := messages[key]
	if !ok {
		return key
	}
	s := m[0]
	if lang == LangEN {
		s = m[1]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// dur writes a duration for a person: 25 分钟, 1 小时 5 分钟 / 25 min, 1 h 5 min.
func dur(lang string, d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if lang == LangEN {
		switch {
		case h > 0 && m == 0:
			return fmt.Sprintf("%d h", h)
		case h > 0:
			return fmt.Sprintf("%d h %d min", h, m)
		case m > 0:
			return fmt.Sprintf("%d min", m)
		}
		return fmt.Sprintf("%d s", s)
	}
	switch {
	case h > 0 && m == 0:
		return fmt.Sprintf("%d 小时", h)
	case h > 0:
		return fmt.Sprintf("%d 小时 %d 分钟", h, m)
	case m > 0:
		return fmt.Sprintf("%d 分钟", m)
	}
	return fmt.Sprintf("%d 秒", s)
}

// secs is dur of a number of seconds.
func secs(lang string, s float64) string { return dur(lang, time.Duration(s*float64(time.Second))) }

// num writes a value with its unit: 23.5 °C, 87 %.
func num(v float64, unit string) string {
	s := fmt.Sprintf("%.1f", v)
	if v == math.Trunc(v) && math.Abs(v) < 1e9 {
		s = fmt.Sprintf("%.0f", v)
	}
	switch unit {
	case "":
		return s
	case "%", "pct":
		return s + " %"
	case "min":
		return s + " min"
	}
	return s + " " + unit
}
