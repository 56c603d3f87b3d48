package modbus

import (
	"context"
	"time"
)

// within bounds one read: the poll's context (its deadline and
// cancellation) and, for an attempt that leaves time for a retry, the
// attempt's own earlier deadline until (zero: none). It stands for a
// context derived per attempt, which would cost a timer and four
// allocations on every read.
type within struct {
	ctx   context.Context
	until time.Time
}

// err is why the read may not start (or go on): ctx has ended or the
// attempt's deadline has passed. Nil while there is time.
func (w within) err() error {
	if err := w.ctx.Err(); err != nil {
		return err
	}
	if !w.until.IsZero() && !time.Now().Before(w.until) {
		return context.DeadlineExceeded
	}
	return nil
}

// deadline is the earlier of ctx's deadline and until; zero if neither.
func (w within) deadline() time.Time {
	dl, ok := w.ctx.Deadline()
	if !ok || (!w.until.IsZero() && w.until.Before(dl)) {
		return w.until
	}
	return dl
}

// expired names why I/O that ran into deadline() (or was interrupted on
// ctx's end) stopped: ctx's cause if ctx has ended or is about to (its
// deadline was the read's), else the attempt's deadline.
func (w within) expired() error {
	if w.ctx.Err() == nil {
		if dl, ok := w.ctx.Deadline(); !w.until.IsZero() && (!ok || w.until.Before(dl)) {
			return context.DeadlineExceeded
		}
		<-w.ctx.Done() // due now: the socket's timer fired first
	}
	return context.Cause(w.ctx)
}
