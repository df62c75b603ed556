//! When a chat's digest comes, pure: a local time on a local day in the chat's zone (DST gaps
//! and overlaps neither skip nor double a day), the next such time, and which local day is due.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;

use crate::model::chat::Cadence;

/// The instant a chat's local `time` comes on local `day`. In a DST gap (the time does not
/// exist that day) it is the first instant after the gap; in a DST overlap (the time happens
/// twice) the first of the two.
pub fn delivery_instant(time: NaiveTime, tz: Tz, day: NaiveDate) -> DateTime<Utc> {
    use chrono::{LocalResult, TimeZone};
    let at = match tz.from_local_datetime(&day.and_time(time)) {
        LocalResult::Single(t) => Some(t),
        LocalResult::Ambiguous(first, _) => Some(first),
        // In the gap: walk forward a minute at a time to the first time that exists.
        LocalResult::None => (1..=24 * 60).find_map(|m| {
            tz.from_local_datetime(&(day.and_time(time) + chrono::Duration::minutes(m)))
                .earliest()
        }),
    };
    // No zone skips a whole day of times; UTC is the fallback if one ever did.
    at.map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| day.and_time(time).and_utc())
}

/// The next time a chat's local `time` comes round strictly after `after`, and the local day
/// it belongs to. The local day is what "one digest per chat per local day" is keyed on, so
/// neither a DST gap nor an overlap can skip or double a day.
/// A weekly chat's time comes round on its weekday only.
pub fn next_delivery(
    every: Cadence,
    time: NaiveTime,
    tz: Tz,
    after: DateTime<Utc>,
) -> (DateTime<Utc>, NaiveDate) {
    let mut day = after.with_timezone(&tz).date_naive();
    loop {
        let at = delivery_instant(time, tz, day);
        if at > after && every.includes(day) {
            return (at, day);
        }
        day = day.succ_opt().expect("dates do not run out");
    }
}

/// The local day whose digest is due at `now`: the latest local day whose delivery time has
/// passed, unless that day already had its digest (`last_day`). After downtime this is the
/// latest missed day only, so a chat catches up once, not once per missed day. A weekly chat's
/// due day is the latest of its weekdays whose time has passed.
pub fn due_day(
    every: Cadence,
    time: NaiveTime,
    tz: Tz,
    now: DateTime<Utc>,
    last_day: Option<NaiveDate>,
) -> Option<NaiveDate> {
    let today = now.with_timezone(&tz).date_naive();
    let mut day = if delivery_instant(time, tz, today) <= now {
        today
    } else {
        today.pred_opt()?
    };
    while !every.includes(day) {
        day = day.pred_opt()?;
    }
    last_day.is_none_or(|l| l < day).then_some(day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(h: u32, m: u32) -> NaiveTime {
        NaiveTime::from_hms_opt(h, m, 0).unwrap()
    }

    #[test]
    fn delivery_time_comes_round_daily_in_the_chats_zone() {
        let sh: Tz = "Asia/Shanghai".parse().unwrap();
        let now = Utc.with_ymd_and_hms(2024, 11, 19, 0, 0, 0).unwrap(); // 08:00 Shanghai
        let (at, day) = next_delivery(Cadence::Daily, t(8, 30), sh, now);
        assert_eq!(at, Utc.with_ymd_and_hms(2024, 11, 19, 0, 30, 0).unwrap());
        assert_eq!(day, NaiveDate::from_ymd_opt(2024, 11, 19).unwrap());
        let (at, day) = next_delivery(Cadence::Daily, t(8, 0), sh, now);
        assert_eq!(
            at,
            Utc.with_ymd_and_hms(2024, 11, 20, 0, 0, 0).unwrap(),
            "strictly after now"
        );
        assert_eq!(day, NaiveDate::from_ymd_opt(2024, 11, 20).unwrap());
    }

    #[test]
    fn dst_gaps_and_overlaps_neither_skip_nor_double_a_day() {
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // 2024-03-31: 02:00-03:00 does not exist in Berlin. 02:30 is delivered at 03:00 CEST.
        let before = Utc.with_ymd_and_hms(2024, 3, 30, 12, 0, 0).unwrap();
        let (at, day) = next_delivery(Cadence::Daily, t(2, 30), berlin, before);
        assert_eq!(
            day,
            NaiveDate::from_ymd_opt(2024, 3, 31).unwrap(),
            "the day is not skipped"
        );
        assert_eq!(at, Utc.with_ymd_and_hms(2024, 3, 31, 1, 0, 0).unwrap());
        // 2024-10-27: 02:00-03:00 happens twice. 02:30 is delivered once, at the first.
        let before = Utc.with_ymd_and_hms(2024, 10, 26, 12, 0, 0).unwrap();
        let (first, day) = next_delivery(Cadence::Daily, t(2, 30), berlin, before);
        assert_eq!(first, Utc.with_ymd_and_hms(2024, 10, 27, 0, 30, 0).unwrap());
        let (next, next_day) = next_delivery(Cadence::Daily, t(2, 30), berlin, first);
        assert_eq!(
            next_day,
            day.succ_opt().unwrap(),
            "the second 02:30 is not a second delivery"
        );
        assert_eq!(next, Utc.with_ymd_and_hms(2024, 10, 28, 1, 30, 0).unwrap());
        // Walking a whole year of daily deliveries yields every local day exactly once.
        let mut after = Utc.with_ymd_and_hms(2024, 1, 1, 0, 0, 0).unwrap();
        let mut days = Vec::new();
        for _ in 0..366 {
            let (at, d) = next_delivery(Cadence::Daily, t(2, 30), berlin, after);
            days.push(d);
            after = at;
        }
        for w in days.windows(2) {
            assert_eq!(w[1], w[0].succ_opt().unwrap());
        }
    }

    #[test]
    fn a_digest_is_due_once_per_local_day_and_catches_up_once() {
        let sh: Tz = "Asia/Shanghai".parse().unwrap();
        let d = |m, day| NaiveDate::from_ymd_opt(2024, m, day).unwrap();
        // 07:59 in Shanghai on the 19th: the 18th's 08:00 has passed, the 19th's not yet.
        let before = Utc.with_ymd_and_hms(2024, 11, 18, 23, 59, 0).unwrap();
        assert_eq!(
            due_day(Cadence::Daily, t(8, 0), sh, before, None),
            Some(d(11, 18))
        );
        assert_eq!(
            due_day(Cadence::Daily, t(8, 0), sh, before, Some(d(11, 18))),
            None
        );
        let after = Utc.with_ymd_and_hms(2024, 11, 19, 0, 0, 0).unwrap();
        assert_eq!(
            due_day(Cadence::Daily, t(8, 0), sh, after, Some(d(11, 18))),
            Some(d(11, 19))
        );
        // Down for three days: one digest, for the latest day, not one per missed day.
        let back = Utc.with_ymd_and_hms(2024, 11, 22, 3, 0, 0).unwrap();
        assert_eq!(
            due_day(Cadence::Daily, t(8, 0), sh, back, Some(d(11, 18))),
            Some(d(11, 22))
        );
        assert_eq!(
            due_day(Cadence::Daily, t(8, 0), sh, back, Some(d(11, 22))),
            None
        );
    }

    #[test]
    fn a_weekly_digest_comes_on_its_weekday_once_a_week() {
        let mon = Cadence::Weekly(chrono::Weekday::Mon);
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        // Wednesday 2024-11-20, 12:00 in Berlin.
        let wed = Utc.with_ymd_and_hms(2024, 11, 20, 11, 0, 0).unwrap();
        let monday = NaiveDate::from_ymd_opt(2024, 11, 18).unwrap();
        let next_monday = NaiveDate::from_ymd_opt(2024, 11, 25).unwrap();
        assert_eq!(due_day(mon, t(8, 0), berlin, wed, None), Some(monday));
        assert_eq!(due_day(mon, t(8, 0), berlin, wed, Some(monday)), None);
        let (at, day) = next_delivery(mon, t(8, 0), berlin, wed);
        assert_eq!(day, next_monday);
        assert_eq!(at, Utc.with_ymd_and_hms(2024, 11, 25, 7, 0, 0).unwrap());
        // Monday 07:59 in Berlin: the week before's Monday is the one due, not today yet.
        let early = Utc.with_ymd_and_hms(2024, 11, 25, 6, 59, 0).unwrap();
        assert_eq!(due_day(mon, t(8, 0), berlin, early, Some(monday)), None);
        let on_time = Utc.with_ymd_and_hms(2024, 11, 25, 7, 0, 0).unwrap();
        assert_eq!(
            due_day(mon, t(8, 0), berlin, on_time, Some(monday)),
            Some(next_monday)
        );
        // Daily is every day.
        assert_eq!(
            due_day(Cadence::Daily, t(8, 0), berlin, wed, Some(monday)),
            NaiveDate::from_ymd_opt(2024, 11, 20)
        );
    }

    #[test]
    fn due_days_neither_skip_nor_double_across_dst() {
        // Every minute through both 2024 DST changes in New York, with 02:30 (missing on
        // 10 March, twice on 3 November): each local day comes due exactly once, in order.
        let ny: Tz = "America/New_York".parse().unwrap();
        for (from, to) in [((3, 8), (3, 12)), ((11, 1), (11, 5))] {
            let mut now = Utc.with_ymd_and_hms(2024, from.0, from.1, 0, 0, 0).unwrap();
            let end = Utc.with_ymd_and_hms(2024, to.0, to.1, 0, 0, 0).unwrap();
            let mut last = Some(now.with_timezone(&ny).date_naive());
            let mut days = Vec::new();
            while now < end {
                if let Some(day) = due_day(Cadence::Daily, t(2, 30), ny, now, last) {
                    days.push(day);
                    last = Some(day);
                }
                now += chrono::Duration::minutes(1);
            }
            assert_eq!(days.len(), 4, "{days:?}");
            for w in days.windows(2) {
                assert_eq!(w[1], w[0].succ_opt().unwrap());
            }
        }
    }
}
