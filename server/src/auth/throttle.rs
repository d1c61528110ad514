//! Failed-login throttling: after [`MAX_FAILURES`] failures for one (username, client address)
//! within [`LOCKOUT_US`], further attempts are refused until the lockout ends. Pure arithmetic on
//! a caller-supplied clock, so it is tested without sleeping.

use std::collections::HashMap;

/// Failures allowed inside one window before the lockout.
pub const MAX_FAILURES: u32 = 5;
/// Length of the counting window and of the lockout (60 s).
pub const LOCKOUT_US: i64 = 60 * 1_000_000;
/// Entries kept before stale ones are pruned, so a credential-stuffing run cannot grow memory
/// without bound.
const PRUNE_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    window_start: i64,
    locked_until: Option<i64>,
}

/// Failure counters keyed by `username \0 address`.
#[derive(Debug, Default)]
pub struct Throttle {
    entries: HashMap<String, Entry>,
}

impl Throttle {
    /// The map key of one username at one address; usernames compare case-insensitively so
    /// `Admin` and `admin` share a budget.
    pub fn key(username: &str, address: &str) -> String {
        format!("{}\0{address}", username.to_lowercase())
    }

    /// `Err(seconds)` while `key` is locked out.
    pub fn check(&mut self, key: &str, now_us: i64) -> Result<(), u64> {
        match self.entries.get(key).and_then(|e| e.locked_until) {
            Some(until) if until > now_us => {
                let secs = (until - now_us + 999_999) / 1_000_000;
                Err(u64::try_from(secs).unwrap_or(1).max(1))
            }
            Some(_) => {
                self.entries.remove(key);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Counts a failure; the one that reaches the limit starts the lockout.
    pub fn fail(&mut self, key: &str, now_us: i64) {
        if self.entries.len() >= PRUNE_AT {
            self.entries.retain(|_, e| {
                e.locked_until.is_some_and(|u| u > now_us) || now_us - e.window_start < LOCKOUT_US
            });
        }
        let e = self.entries.entry(key.to_owned()).or_insert(Entry {
            failures: 0,
            window_start: now_us,
            locked_until: None,
        });
        if now_us - e.window_start >= LOCKOUT_US {
            *e = Entry {
                failures: 0,
                window_start: now_us,
                locked_until: None,
            };
        }
        e.failures += 1;
        if e.failures >= MAX_FAILURES {
            e.locked_until = Some(now_us + LOCKOUT_US);
        }
    }

    /// A successful login clears the counter.
    pub fn succeed(&mut self, key: &str) {
        self.entries.remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: i64 = 1_000_000;

    #[test]
    fn five_failures_lock_out_for_sixty_seconds() {
        let mut t = Throttle::default();
        let k = Throttle::key("Admin", "127.0.0.1");
        for i in 0..MAX_FAILURES {
            assert_eq!(t.check(&k, i64::from(i) * S), Ok(()));
            t.fail(&k, i64::from(i) * S);
        }
        assert_eq!(t.check(&k, 5 * S), Err(59));
        assert_eq!(
            t.check(&Throttle::key("admin", "127.0.0.1"), 5 * S),
            Err(59)
        );
        assert_eq!(t.check(&Throttle::key("admin", "10.0.0.1"), 5 * S), Ok(()));
        assert_eq!(t.check(&k, 4 * S + LOCKOUT_US), Ok(()));
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_lock() {
        let mut t = Throttle::default();
        let k = Throttle::key("a", "ip");
        for i in 0..10 {
            t.fail(&k, i * 20 * S);
            assert_eq!(t.check(&k, i * 20 * S), Ok(()), "attempt {i}");
        }
    }

    #[test]
    fn success_resets_the_count() {
        let mut t = Throttle::default();
        let k = Throttle::key("a", "ip");
        for _ in 0..MAX_FAILURES - 1 {
            t.fail(&k, 0);
        }
        t.succeed(&k);
        t.fail(&k, 0);
        assert_eq!(t.check(&k, 0), Ok(()));
    }
}
