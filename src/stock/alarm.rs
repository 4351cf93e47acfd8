//! The one durable alarm of a SKU object. It serves every wake-up the object needs — the next
//! hold deadline, an order desk registration or an outbox send to retry, the daily clean-up — so
//! a wake-up only ever moves it earlier; only the alarm's own run clears it (and then sets the
//! next). The shell caches the time it set, and after its isolate restarted (the cache empty, the
//! durable alarm still set) it reads the alarm back before deciding: taking an empty cache for
//! "no alarm" would move an earlier wake-up back by up to a day.

/// What the shell knows of its alarm.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Known {
    /// Not known in this isolate yet: read it from storage first.
    #[default]
    Unknown,
    /// The alarm set (ms), or none.
    Set(Option<i64>),
}

/// Whether to set the alarm to `want` when `current` is set (`None`: none): only earlier.
pub fn moves_earlier(current: Option<i64>, want: i64) -> bool {
    current.is_none_or(|c| want < c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_wake_up_only_ever_moves_the_alarm_earlier() {
        assert!(moves_earlier(None, 10));
        assert!(moves_earlier(Some(20), 10));
        assert!(!moves_earlier(Some(10), 10));
        assert!(!moves_earlier(Some(5), 10), "a later want leaves the earlier alarm");
        assert_eq!(Known::default(), Known::Unknown);
    }
}
