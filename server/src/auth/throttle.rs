//! Failed-login throttling: after [`MAX_FAILURES`] failures for one (username, client address)
//! within [`LOCKOUT_US`], further attempts are refused until the lockout ends. Pure arithmetic on
//! a caller-supplied clock, so it is tested without sleeping.
//!
//! The decision is taken before the password check, not after it: [`Throttle::begin`] reserves
//! an attempt and counts it as in flight, so failures plus attempts still being checked never
//! exceed the limit. Without the reservation, 50 parallel guesses all pass the check (none has
//! failed yet) and all reach Argon2.

use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// Failures allowed inside one window before the lockout.
pub const MAX_FAILURES: u32 = 5;
/// Length of the counting window and of the lockout (60 s).
pub const LOCKOUT_US: i64 = 60 * 1_000_000;
/// Entries kept before stale ones are pruned, so a credential-stuffing run cannot grow memory
/// without bound.
const PRUNE_AT: usize = 10_000;
/// Retry-After when the budget is taken by attempts still in flight: they finish within about
/// one password check.
const IN_FLIGHT_RETRY_SECS: u64 = 1;

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    /// Attempts reserved by [`Throttle::begin`] and not yet settled.
    in_flight: u32,
    window_start: i64,
    locked_until: Option<i64>,
}

/// The map key of one (username, address): a fixed-size digest, so neither a long username nor
/// a long address grows the map's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ThrottleKey([u8; 32]);

/// Failure counters per (username, address).
#[derive(Debug, Default)]
pub struct Throttle {
    entries: HashMap<ThrottleKey, Entry>,
}

impl ThrottleKey {
    /// Hex of the digest: how the collectors sharing a database name the key in
    /// `login_failures`.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }
}

impl Throttle {
    /// The key of one username at one address; usernames compare case-insensitively so
    /// `Admin` and `admin` share a budget.
    pub fn key(username: &str, address: &str) -> ThrottleKey {
        let username = username.to_lowercase();
        let mut h = Sha256::new();
        // Length-prefixed, so no (username, address) pair can imitate another.
        h.update((username.len() as u64).to_le_bytes());
        h.update(username.as_bytes());
        h.update(address.as_bytes());
        ThrottleKey(h.finalize().into())
    }

    /// Reserves one attempt: `Err(seconds)` while `key` is locked out or while its failures plus
    /// attempts in flight already reach [`MAX_FAILURES`]. Every `Ok` must be settled by exactly
    /// one of [`Throttle::fail`], [`Throttle::succeed`] or [`Throttle::release`].
    pub fn begin(&mut self, key: ThrottleKey, now_us: i64) -> Result<(), u64> {
        if self.entries.len() >= PRUNE_AT {
            self.prune(now_us);
        }
        let e = self.entries.entry(key).or_insert(Entry {
            failures: 0,
            in_flight: 0,
            window_start: now_us,
            locked_until: None,
        });
        match e.locked_until {
            Some(until) if until > now_us => {
                let secs = (until - now_us + 999_999) / 1_000_000;
                return Err(u64::try_from(secs).unwrap_or(1).max(1));
            }
            Some(_) => {
                e.failures = 0;
                e.locked_until = None;
                e.window_start = now_us;
            }
            None if now_us - e.window_start >= LOCKOUT_US => {
                e.failures = 0;
                e.window_start = now_us;
            }
            None => {}
        }
        if e.failures + e.in_flight >= MAX_FAILURES {
            return Err(IN_FLIGHT_RETRY_SECS);
        }
        e.in_flight += 1;
        Ok(())
    }

    /// Settles a reserved attempt as a failure; the one that reaches the limit starts the lockout.
    pub fn fail(&mut self, key: ThrottleKey, now_us: i64) {
        let Some(e) = self.entries.get_mut(&key) else {
            return;
        };
        e.in_flight = e.in_flight.saturating_sub(1);
        if now_us - e.window_start >= LOCKOUT_US && e.locked_until.is_none() {
            e.failures = 0;
            e.window_start = now_us;
        }
        e.failures += 1;
        if e.failures >= MAX_FAILURES && e.locked_until.is_none() {
            e.locked_until = Some(now_us + LOCKOUT_US);
        }
    }

    /// Settles a reserved attempt as a success: the failure count starts over.
    pub fn succeed(&mut self, key: ThrottleKey, now_us: i64) {
        if let Some(e) = self.entries.get_mut(&key) {
            e.in_flight = e.in_flight.saturating_sub(1);
            e.failures = 0;
            e.window_start = now_us;
            e.locked_until = None;
            if e.in_flight == 0 {
                self.entries.remove(&key);
            }
        }
    }

    /// Settles a reserved attempt that was not decided (the server was busy, the client went
    /// away, storage failed): it counts neither way.
    pub fn release(&mut self, key: ThrottleKey) {
        if let Some(e) = self.entries.get_mut(&key) {
            e.in_flight = e.in_flight.saturating_sub(1);
            if e.in_flight == 0 && e.failures == 0 && e.locked_until.is_none() {
                self.entries.remove(&key);
            }
        }
    }

    /// Drops entries with nothing in flight, no live lockout and a finished window.
    fn prune(&mut self, now_us: i64) {
        self.entries.retain(|_, e| {
            e.in_flight > 0
                || e.locked_until.is_some_and(|u| u > now_us)
                || now_us - e.window_start < LOCKOUT_US
        });
    }

    /// Entries held (for tests of the memory bound).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no entry is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
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
            assert_eq!(t.begin(k, i64::from(i) * S), Ok(()));
            t.fail(k, i64::from(i) * S);
        }
        assert_eq!(t.begin(k, 5 * S), Err(59));
        assert_eq!(t.begin(Throttle::key("admin", "127.0.0.1"), 5 * S), Err(59));
        assert_eq!(t.begin(Throttle::key("admin", "10.0.0.1"), 5 * S), Ok(()));
        assert_eq!(t.begin(k, 4 * S + LOCKOUT_US), Ok(()));
    }

    #[test]
    fn failures_spread_beyond_the_window_do_not_lock() {
        let mut t = Throttle::default();
        let k = Throttle::key("a", "ip");
        for i in 0..10 {
            assert_eq!(t.begin(k, i * 20 * S), Ok(()), "attempt {i}");
            t.fail(k, i * 20 * S);
        }
    }

    #[test]
    fn success_resets_the_count() {
        let mut t = Throttle::default();
        let k = Throttle::key("a", "ip");
        for _ in 0..MAX_FAILURES - 1 {
            t.begin(k, 0).expect("under the limit");
            t.fail(k, 0);
        }
        t.begin(k, 0).expect("under the limit");
        t.succeed(k, 0);
        assert!(t.is_empty());
        t.begin(k, 0).expect("count starts over");
        t.fail(k, 0);
        assert_eq!(t.begin(k, 0), Ok(()));
    }

    #[test]
    fn parallel_attempts_are_reserved_before_any_fails() {
        let mut t = Throttle::default();
        let k = Throttle::key("admin", "ip");
        // Fifty attempts arrive before any password check finished: five get through.
        let admitted = (0..50).filter(|_| t.begin(k, 0).is_ok()).count();
        assert_eq!(admitted, MAX_FAILURES as usize);
        assert_eq!(t.begin(k, 0), Err(IN_FLIGHT_RETRY_SECS));
        for _ in 0..admitted {
            t.fail(k, S);
        }
        assert_eq!(t.begin(k, S), Err(60));
    }

    #[test]
    fn released_attempts_give_their_place_back() {
        let mut t = Throttle::default();
        let k = Throttle::key("admin", "ip");
        for _ in 0..MAX_FAILURES {
            t.begin(k, 0).expect("under the limit");
        }
        assert!(t.begin(k, 0).is_err());
        t.release(k);
        assert_eq!(t.begin(k, 0), Ok(()));
        for _ in 0..MAX_FAILURES {
            t.release(k);
        }
        assert!(t.is_empty(), "nothing left to remember");
    }

    #[test]
    fn a_success_among_parallel_failures_keeps_the_others_in_flight() {
        let mut t = Throttle::default();
        let k = Throttle::key("admin", "ip");
        for _ in 0..3 {
            t.begin(k, 0).expect("under the limit");
        }
        t.succeed(k, 0);
        t.fail(k, 0);
        t.fail(k, 0);
        // Two failures counted after the success; three more attempts allowed.
        let admitted = (0..10).filter(|_| t.begin(k, 0).is_ok()).count();
        assert_eq!(admitted, 3);
    }

    #[test]
    fn keys_are_fixed_size_whatever_the_username() {
        let long = "x".repeat(1 << 20);
        assert_eq!(
            std::mem::size_of_val(&Throttle::key(&long, "ip")),
            std::mem::size_of::<ThrottleKey>()
        );
        assert_ne!(Throttle::key("a", "b\0c"), Throttle::key("a\0b", "c"));
    }

    #[test]
    fn stale_entries_are_pruned_but_live_ones_kept() {
        let mut t = Throttle::default();
        let live = Throttle::key("live", "ip");
        t.begin(live, 0).expect("first");
        for i in 0..PRUNE_AT {
            let k = Throttle::key(&format!("u{i}"), "ip");
            t.begin(k, 0).expect("first");
            t.fail(k, 0);
        }
        t.begin(Throttle::key("late", "ip"), 2 * LOCKOUT_US)
            .expect("first");
        assert_eq!(t.len(), 2, "the in-flight entry and the new one remain");
    }
}
