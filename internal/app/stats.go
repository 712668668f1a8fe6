package app

import "github.com/gridcase/gridcase/internal/stats"

// assembleStats builds the assessment statistics on the store and the cities' time rules
// (a late stage is measured on its own city's calendar). It runs after assembleCalendars.
func (a *App) assembleStats() {
	var rules stats.Rules
	if a.Calendars != nil {
		rules = a.Calendars
	}
	a.Stats = stats.New(a.Store, rules, stats.Config{})
}
