package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestNotifyWho prints who the demo pages for a critical alarm at night.
func TestNotifyWho(t *testing.T) {
	var out, errOut bytes.Buffer
	code := run([]string{"notify", "who", "--config", "../../deploy/local/demo.yaml", "--room", "dc1", "--at", "2026-12-01 23:30"}, &out, &errOut)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	for _, want := range []string{"李四", "值班表 2026-12-01 夜班 20:00-08:00", "群 机房值班群", "王主任", "科主任", "赵院长", "每 10m0s 重复"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("missing %q in\n%s", want, out.String())
		}
	}
	if strings.Contains(out.String(), "张三  ") {
		t.Errorf("张三 is off duty at 23:30:\n%s", out.String())
	}
}
