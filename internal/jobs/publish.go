package jobs

import (
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
)

// PublishEventsArgs is the job that publishes the case events waiting in the outbox (the
// events package works it). The store enqueues it in the same transaction as every case
// event so the feed, webhooks and streams hear of it at once; it is unique while waiting or
// running, so a burst of events coalesces into one job, and a per-replica safety-net loop
// publishes anything a coalesced job missed.
type PublishEventsArgs struct{}

// Kind implements river.JobArgs.
func (PublishEventsArgs) Kind() string { return "events_publish" }

// InsertOpts makes the job unique among waiting and running publish jobs.
func (PublishEventsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{UniqueOpts: river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}}
}
