package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/alerts/notify"
	"github.com/roomwatch/roomwatch/collectors/influx/influxtest"
	"github.com/roomwatch/roomwatch/internal/testutil"
)

// TestRunWithNotify: `roomwatch run` with a notify section tells the
// person of a mains cut through the HTTP SMS gateway channel, and records
// the delivery; a channel that fails raises notify-channel-failing, told
// over the other one (the notifier's key may publish that alarm).
func TestRunWithNotify(t *testing.T) {
	inf := influxtest.Start(t)
	var mu sync.Mutex
	var got []string
	sink := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, string(b))
		mu.Unlock()
		_, _ = w.Write([]byte(`{"code":0}`))
	}))
	defer sink.Close()
	path := writeConfig(t, t.TempDir(), inf.URL(), upsDevice, `notify:
  storm: {window: 0s}
  deadman: {silence: 0s}
  retry: {min: 10ms, max: 20ms, attempts: 1}
  channels:
    - name: broken
      kind: httpsms
      httpsms: {url: "http://127.0.0.1:1/", body: '{{.Text}}'}
    - name: sms
      kind: httpsms
      httpsms:
        url: `+sink.URL+`
        body: '{"mobile": {{json .Mobile}}, "text": {{json .Text}}}'
  people:
    - {name: 张三, mobile: "13800138001", channels: [sms, broken]}
  routes:
    - levels: [{after: 0s, to: [张三]}]
`)
	a := startTestApp(t, path, nil, nil)
	defer a.Stop()
	if err := a.sims.Store.Apply("mains-fail"); err != nil {
		t.Fatal(err)
	}
	sent := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(got)
	}
	testutil.Eventually(t, 20*time.Second, "an SMS gateway request for the mains cut", func() (bool, string) {
		g := sent()
		return len(g) > 0 && strings.Contains(g[0], "13800138001") && strings.Contains(g[0], "市电"), fmt.Sprintf("got %q", g)
	})
	testutil.Eventually(t, 20*time.Second, "notify-channel-failing told over sms", func() (bool, string) {
		g := sent()
		return strings.Contains(strings.Join(g, "\n"), "通知渠道 broken 发送失败"), fmt.Sprintf("got %q", g)
	})
	testutil.Eventually(t, 20*time.Second, "the delivery records", func() (bool, string) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		list, err := notify.ReadLog(ctx, a.js, time.Time{})
		cancel()
		return err == nil && slices.ContainsFunc(list, func(d alerts.Delivery) bool {
			return d.Result == alerts.DeliverySent && d.Person == "张三" && d.Channel == "sms"
		}) && slices.ContainsFunc(list, func(d alerts.Delivery) bool { return d.Result == alerts.DeliveryDead && d.Channel == "broken" }), fmt.Sprintf("%v %+v", err, list)
	})
}
