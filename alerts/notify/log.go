package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/roomwatch/roomwatch/alerts"
	"github.com/roomwatch/roomwatch/internal/termtable"
)

// ReadLog reads the delivery records stored since since (all when zero).
func ReadLog(ctx context.Context, js jetstream.JetStream, since time.Time) ([]alerts.Delivery, error) {
	s, err := js.Stream(ctx, alerts.DeliveryStream)
	if err != nil {
		return nil, fmt.Errorf("delivery stream %s: %w", alerts.DeliveryStream, err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		return nil, err
	}
	if info.State.Msgs == 0 {
		return nil, nil
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy}
	if !since.IsZero() {
		cfg.DeliverPolicy, cfg.OptStartTime = jetstream.DeliverByStartTimePolicy, &since
	}
	c, err := s.OrderedConsumer(ctx, cfg)
	if err != nil {
		return nil, err
	}
	var out []alerts.Delivery
	for {
		batch, err := c.FetchNoWait(256)
		if err != nil {
			return out, err
		}
		n := 0
		for m := range batch.Messages() {
			n++
			var d alerts.Delivery
			if json.Unmarshal(m.Data(), &d) == nil {
				out = append(out, d)
			}
			if md, err := m.Metadata(); err == nil && md.NumPending == 0 {
				return out, nil
			}
		}
		if err := batch.Error(); err != nil && !errors.Is(err, jetstream.ErrNoMessages) {
			return out, err
		}
		if n == 0 {
			return out, nil
		}
	}
}

var resultLabels = map[string]string{
	alerts.DeliverySent: "已发送", alerts.DeliveryFailed: "失败（重试）", alerts.DeliveryUnknown: "不确定",
	alerts.DeliveryDead: "放弃（死信）", alerts.DeliveryReport: "已送达",
}

var kindLabels = map[string]string{
	KindFiring: "告警", KindResolved: "恢复", KindEscalation: "升级", KindRepeat: "重复",
	KindSelfTest: "自检", KindDeadMan: "失联", "report": "回执",
}

// PrintLog writes delivery records as a Chinese table, times in loc.
func PrintLog(w io.Writer, list []alerts.Delivery, loc *time.Location) error {
	var t termtable.Table
	t.Row("时间", "类型", "级", "接收人", "地址", "渠道", "结果", "次", "告警", "回复/错误")
	for _, d := range list {
		answer := d.Answer
		if d.Error != "" {
			answer = d.Error
		}
		t.Row(d.At.In(loc).Format(time.DateTime), label2(kindLabels, d.Kind),
			strconv.Itoa(d.Level), dash(d.Person), dash(d.Address), d.Channel, label2(resultLabels, d.Result), strconv.Itoa(d.Attempt),
			dash(strings.Join(d.AlarmIDs, " ")), dash(fit(strings.ReplaceAll(answer, "\n", " "), 60)))
	}
	if len(list) == 0 {
		t.Row("（无记录）")
	}
	_, err := t.WriteTo(w)
	return err
}

func label2(m map[string]string, k string) string {
	if v, ok := m[k]; ok {
		return v
	}
	return k
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
