package worktime

import "time"

// ChinaHolidays2026 returns the national holidays and make-up workdays of 2026, as announced in
// 国务院办公厅关于2026年部分节假日安排的通知 (published 2025-11-04, Xinhua): 元旦 1-01…1-03
// (work 1-04 Sun); 春节 2-15…2-23 (work 2-14 Sat, 2-28 Sat); 清明节 4-04…4-06; 劳动节
// 5-01…5-05 (work 5-09 Sat); 端午节 6-19…6-21; 中秋节 9-25…9-27; 国庆节 10-01…10-07 (work 9-20
// Sun, 10-10 Sat). Every day of each holiday range is listed, weekend days included, as the
// notice counts them. It is a convenience for seeding and tests; a city's calendar is what its
// admin enters, and local holidays are added there.
func ChinaHolidays2026() []Exception {
	var out []Exception
	holidays := func(name string, m time.Month, from, to int) {
		for d := from; d <= to; d++ {
			out = append(out, Exception{Date: Date{2026, m, d}, Kind: Holiday, Name: name})
		}
	}
	workday := func(name string, m time.Month, d int) {
		out = append(out, Exception{Date: Date{2026, m, d}, Kind: Workday, Name: name})
	}
	holidays("元旦", time.January, 1, 3)
	workday("元旦调休", time.January, 4)
	workday("春节调休", time.February, 14)
	holidays("春节", time.February, 15, 23)
	workday("春节调休", time.February, 28)
	holidays("清明节", time.April, 4, 6)
	holidays("劳动节", time.May, 1, 5)
	workday("劳动节调休", time.May, 9)
	holidays("端午节", time.June, 19, 21)
	workday("国庆节调休", time.September, 20)
	holidays("中秋节", time.September, 25, 27)
	holidays("国庆节", time.October, 1, 7)
	workday("国庆节调休", time.October, 10)
	return out
}
