// Package stats computes the assessment tables (考核统计) of DOMAIN.md §5 from the case event
// log (case_events), never from the cases' mutable columns: a past period's figures do not
// change when a case moves on. The cases table is read only for a case's place (grid and region
// path), category and source. docs/assessment.md explains the figures for people; this is the
// exact rule the code applies.
//
// # Period
//
// A table covers the days From to To, both included, in the time zone of the root region's
// calendar (Asia/Shanghai): the instants [From 00:00, To+1 00:00). An event is in the period
// when its created_at is. Each case is read with its whole history before the period's end and
// nothing after it. The cases read are those with an event in the period and those whose
// recorded handling deadline falls in it.
//
// # Counts (distinct cases; a case adds at most one to a figure of a row)
//
//   - reported (上报数): a report event in the period.
//   - filed (立案数): an accept or self_handle event in the period.
//   - dispatched (派遣数): a dispatch event in the period (a rework after a failed check is not
//     a dispatch).
//   - returned (回退数): a return event in the period.
//   - reworked (返工数): a failed check (a check event to handling) in the period.
//   - closed (结案数): a close or self_handle event in the period. When a case is closed,
//     reopened and closed again in the period, its last closure in the period is the one that
//     counts (for closed on time, accurate dispatch and the department).
//   - closed on time (按期结案数): closed, and no feedback since the case was filed (or last
//     reopened) left the handling stage overdue. A self-handled case is closed on time.
//   - due (应结案数): closed in the period, or a handling deadline of the case fell in the
//     period, had passed at the time of the query, and passed while the department still held
//     the case (no feedback, return, close or cancellation before it, and not suspended at
//     that instant). The deadline in force is the last one an event recorded (dispatch, a
//     failed check's rework, an approved extension, an approved suspension or a resume); an
//     extension or a suspension without one recomputes it on the case's calendar. So
//     closed on time ⊆ closed ⊆ due, and on-time closure rate ≤ 100 %.
//   - suspended (挂账数): filed in the period and suspended at its end (for a department:
//     dispatched to it in the period and suspended at the end).
//   - closed dispatched, accurately dispatched (准确派遣数): closed cases that had been
//     dispatched at least once; of those, the ones never returned and never dispatched to
//     more than one department up to that closure.
//   - self-handled (自行处置数): a self_handle event in the period.
//   - missed reports (漏报数): cases accepted in the period, located in a grid, whose report
//     came from a resident, the hotline, video or an integrator (not a grid worker or a leader),
//     and not merged into another case before the period's end (the case a duplicate was
//     merged into carries the count). A grid worker's row counts the misses of the grids they
//     patrol now (user scopes are not historised).
//   - reports (grid workers' 上报数): report events in the period by a grid worker; valid
//     reports (有效上报数): accept or self_handle events in the period of cases a grid worker
//     reported.
//   - verifies, checks (核实, 核查): verify and check events in the period; on time when the
//     event did not leave its stage overdue.
//
// # Rates (nil when the base is zero)
//
//   - on-time closure rate (按期结案率) = closed on time ÷ due.
//   - closure rate (结案率) = closed ÷ (filed − suspended); for a department ÷ (dispatched −
//     suspended). Both are counts of the period's events, so a period that closes a backlog
//     can exceed 100 %.
//   - rework rate (返工率) = reworked ÷ filed; for a department ÷ dispatched.
//   - accurate dispatch rate (准确派遣率) = accurately dispatched ÷ closed dispatched.
//   - return rate (回退率) = returned ÷ dispatched.
//   - satisfaction rate (满意率) = evaluations of 4 or 5 ÷ evaluations in the period; average
//     satisfaction (平均满意度) their mean.
//   - valid-report rate (有效上报率) = valid reports ÷ reports; on-time verify and check rates
//     (按时核实率, 按时核查率) = on time ÷ all.
//
// # Times
//
//   - Average time per stage (环节平均用时): the time_used_seconds of the workflow events in the
//     period that left the stage (accept, reject, cancel, merge, request-verification, verify,
//     dispatch, sign, return, feedback, check, close, escalate, hand-down), averaged per stage.
//     An escalation or hand-down restarts the clock at the new desk, so each desk's time is a
//     sample. Timer events and self_handle are not samples; the handling time before an
//     approved suspension joins the sample of the event that finally leaves the stage.
//   - Average handling time (平均处置时长): for each feedback in the period, the time from the
//     dispatch (or the failed check) that started its round to the feedback: the sign and
//     handle stages' time used, suspensions excluded.
//   - Overdue count (超期数): events in the period that left a stage past its deadline.
//   - Overtime multiple (超时倍数): for each of them, (used − limit) ÷ limit measured on the work
//     calendar of the case's place in the limit's own unit (work time for work hours and work
//     days): the handling stage from its round's start against the category's limit (from the
//     dispatch event) times one plus the approved extensions, without the suspensions; the
//     other stages from their start against the city's stage limit. Averaged over the overdue
//     stages that have a known limit; never below 0.
//
// # Rows
//
// Region, grid and category rows take every figure of the case by its place or category (a
// region row is the ancestor of the case's grid at the asked level; unplaced cases, which a
// desk of the subtree holds, make the row with key ""). A department row takes what concerns
// the department: its dispatches, returns and reworks (the event's target department), the
// closures and evaluations of the cases it led at the time (the last dispatch's department),
// the due cases whose deadline passed while it held them, and its sign and handle stages. A
// grid worker row takes their reports, the filings of their reports, their verifications and
// checks (and those stages' times), their self-handled cases and the misses of their grids.
// The total counts each case once, whatever rows it appears in. Rows are ordered by code or
// by name, never by a figure.
//
// # Who sees what
//
// Admins (and users with scope all) see everything; dispatchers and supervisors their region
// subtree; a handler only its department's row of the department table; a grid worker only
// their own row of the worker table: the 2023 directive against "fingertip formalism" bans
// rankings in the apps grid workers use, so a worker is never shown colleagues' figures, the
// worker table is not in the mobile API, and no table is sorted by performance. API keys need
// cases:read and never get the worker table.
package stats
