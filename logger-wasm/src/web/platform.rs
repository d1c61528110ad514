//! The core's injected services backed by browser APIs: `localStorage` as [`Storage`],
//! `crypto.getRandomValues` as [`Random`].

use crate::core::{Random, Storage, StorageError, XorShift};
use wasm_bindgen::JsCast;

/// `window.localStorage`, when the page may use it.
pub struct LocalStorage(web_sys::Storage);

impl LocalStorage {
    /// `None` when storage is disabled (private mode, sandboxed iframe, cookie settings).
    pub fn open() -> Option<Self> {
        web_sys::window()?.local_storage().ok().flatten().map(Self)
    }
}

impl Storage for LocalStorage {
    fn get(&self, key: &str) -> Option<String> {
        self.0.get_item(key).ok().flatten()
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), StorageError> {
        self.0.set_item(key, value).map_err(|e| {
            let quota = e
                .dyn_ref::<web_sys::DomException>()
                .is_some_and(|d| d.name() == "QuotaExceededError" || d.code() == 22);
            if quota {
                StorageError::Quota
            } else {
                StorageError::Unavailable
            }
        })
    }

    fn remove(&mut self, key: &str) {
        let _ = self.0.remove_item(key);
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        let n = self.0.length().unwrap_or(0);
        (0..n)
            .filter_map(|i| self.0.key(i).ok().flatten())
            .filter(|k| k.starts_with(prefix))
            .collect()
    }
}

/// `crypto.getRandomValues`, falling back to a time-seeded generator where it is missing.
pub(crate) struct CryptoRandom {
    crypto: Option<web_sys::Crypto>,
    fallback: XorShift,
}

impl CryptoRandom {
    /// The page's crypto object.
    pub fn new() -> Self {
        Self {
            crypto: web_sys::window().and_then(|w| w.crypto().ok()),
            fallback: XorShift::new(js_sys::Date::now().to_bits()),
        }
    }
}

impl Random for CryptoRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        let ok = self
            .crypto
            .as_ref()
            .is_some_and(|c| c.get_random_values_with_u8_array(buf).is_ok());
        if !ok {
            self.fallback.fill(buf);
        }
    }
}
