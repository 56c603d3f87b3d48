package channels

import "time"

// Limit is a channel's documented sending rate: at most Messages in any
// window of Per.
type Limit struct {
	Messages int
	Per      time.Duration
}

// Limited is a Channel whose vendor documents a sending rate (the WeCom
// and DingTalk robots: 20 messages a minute). The notifier paces its
// queue to stay under it, critical messages first; going over costs a
// wait (RetryAfter) and, for DingTalk, ten minutes of silence.
type Limited interface {
	Channel
	Limit() Limit
}
