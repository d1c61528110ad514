//! The persistence and randomness the core needs, as traits the glue implements.
//!
//! The browser glue backs [`Storage`] with `localStorage` and [`Random`] with
//! `crypto.getRandomValues`; tests use [`MemoryStorage`] (shared between "page loads" to
//! simulate reloads) and a seeded generator.

use std::cell::RefCell;
use std::rc::Rc;

/// Why a write to storage failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    /// The origin's storage quota is full (`QuotaExceededError`); evicting may help.
    #[error("storage quota exceeded")]
    Quota,
    /// Storage is unavailable (disabled, private mode, security error); evicting cannot help.
    #[error("storage unavailable")]
    Unavailable,
}

/// A string key/value store shaped like `localStorage`.
pub trait Storage {
    /// The value under `key`, if any.
    fn get(&self, key: &str) -> Option<String>;
    /// Stores `value` under `key`.
    fn set(&mut self, key: &str, value: &str) -> Result<(), StorageError>;
    /// Deletes `key` (no error when absent).
    fn remove(&mut self, key: &str);
    /// Every key starting with `prefix`, in ascending byte order (the outbox loads batches in
    /// key order; the browser host sorts in JS, so the module carries no sort routine).
    fn keys_with_prefix(&self, prefix: &str) -> Vec<String>;
}

/// A source of random bytes (ids, jitter, sampling).
pub trait Random {
    /// Fills `buf` with random bytes.
    fn fill(&mut self, buf: &mut [u8]);

    /// A uniform number in `[0, 1)`.
    fn unit(&mut self) -> f64 {
        let mut b = [0u8; 4];
        self.fill(&mut b);
        f64::from(u32::from_le_bytes(b)) / 4_294_967_296.0
    }
}

/// An in-memory [`Storage`]; clones share the same map, so a test can build a second core over
/// the storage of the first one to simulate a page reload.
#[derive(Debug, Clone, Default)]
pub struct MemoryStorage {
    inner: Rc<RefCell<MemoryInner>>,
}

#[derive(Debug, Default)]
struct MemoryInner {
    /// Key/value pairs; a Vec keeps the wasm module small (no B-tree code).
    map: Vec<(String, String)>,
    /// Total bytes (keys + values) allowed; `None` for unlimited.
    quota: Option<usize>,
    /// When set, only keys with this prefix count against (and are refused by) the quota.
    quota_prefix: Option<String>,
}

impl MemoryStorage {
    /// An unlimited store.
    pub fn new() -> Self {
        Self::default()
    }

    /// A store that fails with [`StorageError::Quota`] beyond `bytes` of keys plus values.
    pub fn with_quota(bytes: usize) -> Self {
        let s = Self::default();
        s.inner.borrow_mut().quota = Some(bytes);
        s
    }

    /// A store whose quota of `bytes` applies only to keys starting with `prefix`: models an
    /// origin nearly full of other data, where big values fail but a small record still fits.
    pub fn with_quota_for_prefix(bytes: usize, prefix: &str) -> Self {
        let s = Self::with_quota(bytes);
        s.inner.borrow_mut().quota_prefix = Some(prefix.to_owned());
        s
    }

    /// Bytes of keys plus values currently stored.
    pub fn used_bytes(&self) -> usize {
        self.inner
            .borrow()
            .map
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum()
    }

    /// Number of keys stored.
    pub fn len(&self) -> usize {
        self.inner.borrow().map.len()
    }

    /// True when nothing is stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Storage for MemoryStorage {
    fn get(&self, key: &str) -> Option<String> {
        let inner = self.inner.borrow();
        inner
            .map
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), StorageError> {
        let mut inner = self.inner.borrow_mut();
        let counted = |k: &str| {
            inner
                .quota_prefix
                .as_deref()
                .is_none_or(|p| k.starts_with(p))
        };
        if let Some(quota) = inner.quota
            && counted(key)
        {
            let old = inner
                .map
                .iter()
                .find(|(k, _)| k == key)
                .map_or(0, |(_, v)| key.len() + v.len());
            let used: usize = inner
                .map
                .iter()
                .filter(|(k, _)| counted(k))
                .map(|(k, v)| k.len() + v.len())
                .sum();
            if used - old + key.len() + value.len() > quota {
                return Err(StorageError::Quota);
            }
        }
        match inner.map.iter_mut().find(|(k, _)| k == key) {
            Some((_, v)) => *v = value.to_owned(),
            None => inner.map.push((key.to_owned(), value.to_owned())),
        }
        Ok(())
    }

    fn remove(&mut self, key: &str) {
        self.inner.borrow_mut().map.retain(|(k, _)| k != key);
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        let mut keys: Vec<String> = self
            .inner
            .borrow()
            .map
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.clone())
            .collect();
        keys.sort();
        keys
    }
}

/// A small deterministic generator (xorshift64*) for tests and as a fallback when the platform
/// offers no cryptographic source. Not for secrets: ids only need to be unlikely to collide.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from a seed (zero is replaced, xorshift must not start at zero).
    pub fn new(seed: u64) -> Self {
        Self(if seed == 0 {
            0x9e37_79b9_7f4a_7c15
        } else {
            seed
        })
    }
}

impl Random for XorShift {
    fn fill(&mut self, buf: &mut [u8]) {
        for chunk in buf.chunks_mut(8) {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let v = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}
