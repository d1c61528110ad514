//! Ingest key lookups with a short cache, so the hot path does not ask the database on every
//! batch. Unknown keys are cached briefly too, so a flood of bad keys cannot reach the database.

use crate::store::{KeyGrant, Store, StoreResult};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

const FOUND_TTL: Duration = Duration::from_secs(30);
const MISSING_TTL: Duration = Duration::from_secs(5);
const MAX_CACHED: usize = 10_000;

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
        {
            let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
            if let Some((grant, at)) = entries.get(key) {
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
        let grant = self.store.find_ingest_key(key).await?;
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= MAX_CACHED {
            entries.clear();
        }
        entries.insert(key.to_owned(), (grant.clone(), Instant::now()));
        Ok(grant)
    }
}
