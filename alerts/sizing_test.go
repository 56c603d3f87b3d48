package alerts

import "testing"

// TestDefaultAlarmMaxBytes: the default holds a busy site's 400 days of
// alarm messages, and not much more (it is reserved up front on an
// external server).
func TestDefaultAlarmMaxBytes(t *testing.T) {
	msg := AlarmMessageBytes()
	if msg < 1024 || msg > 2048 {
		t.Errorf("an alarm message takes %d bytes, want the 1-2 KiB the default is sized for", msg)
	}
	need := msg * BusySiteMessagesPerDay * AlarmRetentionDays
	got := int64(DefaultAlarmMaxBytes)
	if got < need || got > need+256<<20 {
		t.Errorf("DefaultAlarmMaxBytes = %s, want %d to %d bytes", DefaultAlarmMaxBytes, need, need+256<<20)
	}
	t.Logf("alarm message %d bytes; %d a day for %d days = %d bytes; default %s", msg, BusySiteMessagesPerDay, AlarmRetentionDays, need, DefaultAlarmMaxBytes)
}
