// Package worktime is gridcase's work-calendar arithmetic: when a time limit (处置时限) runs
// out, how much of it a case has used, and which traffic light (绿/黄/红灯) it shows.
//
// It is pure computation on the standard library: calendars are built from a Config that
// later layers store and edit (an admin maintains the yearly holiday table through the API).
//
// # The calendar
//
// A Calendar has a time zone (default Asia/Shanghai), work windows that are the same on every
// workday (default 08:30–12:00 and 13:30–17:30, so a work day holds 7h30m of work time), weekend
// days (default Saturday and Sunday) and a table of dated exceptions:
//
//   - a holiday (节假日) is a day off even when it falls on a weekday (春节, 国庆节 …);
//   - a make-up workday (调休上班日) is a weekend day that is worked (春节调休 …).
//
// A date is a workday when it is a make-up workday, or when it is neither a weekend day nor a
// holiday. Dates and clock times are read in the calendar's zone; instants may be given in any
// zone and results come back in the calendar's zone. A window is half-open: 08:30–12:00 holds
// 08:30 but not 12:00.
//
// New refuses (errs.Invalid, with one field error per problem): an unknown zone or "Local" (a
// calendar must not depend on the server's settings); no window; a window outside 00:00–24:00 or
// whose end is not after its start; two overlapping windows (windows may touch; they are sorted
// for you); an unknown or repeated weekend day, or a week with no workday; an invalid date, an
// unknown kind or an empty name in the exception table; two exceptions on one date; a make-up
// workday that is not a weekend day (it would change nothing, so it is a typo); and a table that
// leaves any year it touches without a single workday. A holiday on a weekend day is allowed, as
// the official tables list whole ranges (春节 2026-02-15 … 2026-02-23, a Sunday to a Monday).
//
// # The four units
//
//   - urgent_hours (紧急工作时): a continuous clock, nights, weekends and holidays included. The
//     deadline is start + the hours (and minutes).
//   - work_hours (工作时): only work time counts, that is time inside a window on a workday. A case
//     received outside work time starts counting at the next window start.
//   - work_days (工作日): N work days are N × the daily work time (7h30m by default), counted
//     exactly like work_hours. So a case received inside a window is due at the same clock time N
//     workdays later (Tuesday 10:00 + 1 work day = Wednesday 10:00; Friday 10:00 + 1 = Monday
//     10:00, or the 调休 Saturday when there is one); a case received outside work time (before
//     opening, at lunch, in the evening, at a weekend or on a holiday) counts from the next window
//     start and is due at the end of its Nth workday's work (Monday 18:00 + 1 work day = Tuesday
//     17:30; Monday 12:30 + 1 work day = Tuesday 12:00).
//   - natural_days (自然日): calendar days in the calendar's zone, a continuous clock: the deadline
//     is the same local clock time N dates later, holidays included. Asia/Shanghai has had no
//     daylight saving time since 1991, so there a day is exactly 24 hours; in a zone with DST the
//     day of a change is 23 or 25 hours long and the deadline still keeps its local clock time.
//
// Why work_days follow the work clock rather than the "counted from the next day, due at the end
// of the day" rule (次日起算) of administrative deadlines and many 12345 hotline procedures
// (e.g. "收到转办件工单的次日起13个工作日内办结"): the 数字城管 case standards this product
// follows (GB/T 30428.2 style catalogues, such as 济源's 城市事件立案、处置与结案标准 with
// 道路不洁 5工作时, 暴露垃圾 1工作日, 违法搭建 15工作日, or 深圳 SZDB/Z 300.4-2018 附录A
// 处理工作时限) mix work hours and work days in one table and one traffic light, so a work day
// must be a fixed quantity of work time. Under the end-of-day rule a case dispatched at 08:31
// would get almost two days for "1 work day" and one dispatched at 17:29 one day, and its light
// could not move smoothly. The work-clock rule treats every case alike, makes N work days equal
// to N × daily work time in work_hours, and keeps Used and the light continuous.
//
// # Deadlines, usage and lights
//
// Deadline(start, limit) is the earliest instant at which the whole limit has been used. It never
// falls inside a break: when the time runs out exactly at a window's end, the deadline is that
// end (12:00 or 17:30), not the start of the next window, so an overdue timer fires when the time
// is really up. Deadline is monotonic in the limit's value.
//
// Used(start, now, limit) is how much of the limit's own measure passed between start and now:
// work time for work_hours and work_days, wall time for urgent_hours and natural_days.
// Amount(start, limit) is the size of the limit in that measure (7h30m per default work day,
// 24h per natural day in Asia/Shanghai), and Used(start, Deadline(start, l), l) == Amount(start, l)
// for every start and limit.
//
// Fraction = Used ÷ Amount, and the light (DOMAIN.md §3) is:
//
//	green  fraction < 0.8          (less than 80 % used)
//	yellow 0.8 ≤ fraction ≤ 1.0    (80 % exactly is yellow; the deadline instant itself is yellow:
//	                                the time is used up but not exceeded)
//	red    fraction > 1.0, or now past the deadline (overdue)
//
// The last clause matters for the work clock: a case due Friday 17:30 has used exactly 100 % of
// its work time all weekend, yet it is overdue from Friday 17:30 on, as 数字城管 desks expect.
// LightOf maps a bare fraction; Progress gives the light of a case (with the deadline rule, and
// decided on exact durations: no floating-point rounding at 80 % or 100 %), together with WarnAt,
// the earliest instant at which 80 % is used. So for every instant now:
//
//	now < WarnAt              green
//	WarnAt ≤ now ≤ Deadline   yellow
//	now > Deadline            red
//
// which is what a store needs to filter lists by light and a job queue to fire warnings on time.
//
// # Pauses (挂账)
//
// An approved suspension stops the clock. The *WithPauses functions take the pause intervals
// [Start, End): the clock does not run inside them, whatever the unit. A pause over time that does
// not count anyway costs nothing (for work units a pause from Friday 15:00 to Monday 10:00 removes
// only Friday 15:00–17:30 and Monday 08:30–10:00). Overlapping pauses are merged, the parts before
// the start are ignored, an interval whose End is not after its Start pauses nothing, and an
// interval with a zero End is open (still suspended, no end known): Used stops at its start, and
// Deadline returns the zero time when the open pause begins before the time runs out (the case
// has no deadline while the clock is stopped for good). A suspension with a planned end should be
// passed with that end; the deadline then assumes the case resumes on time.
//
// An extension (延期) adds one original limit: use Limit.Times(1+approved extensions).
//
// # Cost
//
// The arithmetic steps by day and by window, never by minute: 15 work days or 200 work hours is
// a few dozen windows (see the benchmarks). The package embeds the time zone database
// (time/tzdata) so that Asia/Shanghai resolves in minimal containers.
package worktime
