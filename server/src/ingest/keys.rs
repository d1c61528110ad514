//! Ingest key lookups with a short cache, so the hot path does not ask the database on every
//! batch. Unknown keys are cached briefly too, so a flood of bad keys cannot reach the database.
//!
//! Keys are stored and cached as SHA-256 hashes: the database never holds a working key, and a
//! cache entry is 64 bytes whatever length of key a client sent.

use crate::store::{KeyGrant, Store, StoreResult};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

const FOUND_TTL: Duration = Duration::from_secs(30);
const MISSING_TTL: Duration = Duration::from_secs(5);
const MAX_CACHED: usize = 10_000;

/// SHA-256 of an ingest key, lower-case hex: what `ingest_keys.key_hash` stores. A plain hash
/// (no salt, no stretching) is enough: keys are 32 random characters, not guessable passwords,
/// and the lookup must be an indexed equality.
pub fn key_hash(key: &str) -> String {
    crate::auth::token_hash(key)
}

/// Cache in front of [`Store::find_ingest_key`].
pub struct KeyCache {
    store: Arc<dyn Store>,
    entries: RwLock<HashMap<String, (Option<KeyGrant>, Instant)>>,
}

impl KeyCache {
    /// An empty cache over `store`.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            entries: RwLock::new(HashMap::new()),
        }
    }

    /// The grant of `key`, or `None` when it does not exist.
    pub async fn get(&self, key: &str) -> StoreResult<Option<KeyGrant>> {
        let hash = key_hash(key);
        {
            let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
            if let Some((grant, at)) = entries.get(&hash) {
                let ttl = if grant.is_some() {
                    FOUND_TTL
                } else {
                    MISSING_TTL
                };
                if at.elapsed() < ttl {
                    return Ok(grant.clone());
                }
            }
        }
        let grant = self.store.find_ingest_key(&hash).await?;
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_CACHED {
            entries.clear();
        }
        entries.insert(hash, (grant.clone(), Instant::now()));
        Ok(grant)
    }
}
