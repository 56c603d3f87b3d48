package termtable

import (
	"strings"
	"testing"
)

func TestWriteToPadsByDisplayWidth(t *testing.T) {
	var tb Table
	tb.Row("设备", "状态", "温度")
	tb.Row("th1", "告警中", "28.4°C")
	tb.Row("一号机房UPS", "ok", "-")
	var b strings.Builder
	if _, err := tb.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	want := "" +
		"设备         状态    温度\n" +
		"th1          告警中  28.4°C\n" +
		"一号机房UPS  ok      -\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	if w := Width("一号机房UPS"); w != 11 {
		t.Errorf("Width = %d, want 11", w)
	}
}
