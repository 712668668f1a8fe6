package jobs

import (
	"sync"
	"time"
)

// Clock is the time that the job queue and the services that schedule jobs agree on. In
// production it is the system clock. Tests move it forward with Advance so that a timer
// scheduled hours ahead falls due at once, without sleeping: River then fetches, schedules,
// retries and completes jobs as if that much time had passed (it implements River's
// rivertype.TimeGenerator, handed to River as Config.Test.Time).
//
// Services that compute deadlines (timers, supervision) take their "now" from the same Clock,
// so that a deadline computed after Advance and the queue's idea of "due" agree.
type Clock struct {
	mu     sync.RWMutex
	offset time.Duration
}

// NewClock returns a clock that reads the system time until it is advanced.
func NewClock() *Clock { return &Clock{} }

// Now is the current time in UTC, plus any advance.
func (c *Clock) Now() time.Time {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return time.Now().UTC().Add(c.offset)
}

// Advance moves the clock forward by d (tests only; a negative d is ignored, time does not
// run backwards).
func (c *Clock) Advance(d time.Duration) {
	if d <= 0 {
		return
	}
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// Offset is how far the clock has been advanced.
func (c *Clock) Offset() time.Duration {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.offset
}

// NowUTC implements rivertype.TimeGenerator.
func (c *Clock) NowUTC() time.Time { return c.Now() }

// NowUTCOrNil implements rivertype.TimeGenerator: nil while the clock has not been advanced,
// so River lets the database supply now(); the advanced time once it has, so River's queries
// compare scheduled_at against the clock instead of the database's time.
func (c *Clock) NowUTCOrNil() *time.Time {
	if c.Offset() == 0 {
		return nil
	}
	t := c.Now()
	return &t
}
