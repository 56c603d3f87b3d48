package modem

import (
	"context"
	"testing"

	"github.com/roomwatch/roomwatch/alerts/channels/modem/modemsim/simtest"
)

// BenchmarkSend is the channel's own cost per SMS through the simulated
// modem on a socat pty pair (a real modem takes seconds per part):
//
//	go test -run '^$' -bench Send -benchtime 200x ./alerts/channels/modem/
func BenchmarkSend(b *testing.B) {
	for _, bc := range []struct {
		name, text string
	}{{"1part", "【紧急】一号机房 市电中断"}, {"3parts", chinese150}} {
		b.Run(bc.name, func(b *testing.B) {
			s := simtest.Start(b)
			m := newModem(b, s)
			ctx := context.Background()
			if _, err := m.Send(ctx, to("warm", "连接", "13800138000")); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := m.Send(ctx, to("n", bc.text, "13800138000")); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
