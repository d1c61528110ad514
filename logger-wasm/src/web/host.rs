//! The core's injected services backed by the JS host object (`js/host.js`): `localStorage`
//! as [`Storage`], `crypto.getRandomValues` as [`Random`].
//!
//! The host is a plain JS object with five methods, so the module imports five small functions
//! instead of web-sys's `Window`/`Storage`/`Crypto`/`DomException` bindings.

use crate::core::{Random, Storage, StorageError};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// What `js/host.js` `storageHost()` returns: storage and randomness for the core.
    #[derive(Clone)]
    pub type Host;

    /// The value under `key`, if any.
    #[wasm_bindgen(method)]
    fn get(this: &Host, key: &str) -> Option<String>;

    /// Stores a value: 0 stored, 1 quota exceeded, anything else storage unavailable.
    #[wasm_bindgen(method)]
    fn set(this: &Host, key: &str, value: &str) -> u32;

    /// Deletes a key.
    #[wasm_bindgen(method)]
    fn remove(this: &Host, key: &str);

    /// Every key starting with `prefix`, each followed by `'\n'`.
    #[wasm_bindgen(method)]
    fn keys(this: &Host, prefix: &str) -> String;

    /// Fills `buf` with random bytes.
    #[wasm_bindgen(method)]
    fn random(this: &Host, buf: &mut [u8]);
}

/// `localStorage` through the host.
pub struct HostStorage(pub Host);

impl Storage for HostStorage {
    fn get(&self, key: &str) -> Option<String> {
        self.0.get(key)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), StorageError> {
        match self.0.set(key, value) {
            0 => Ok(()),
            1 => Err(StorageError::Quota),
            _ => Err(StorageError::Unavailable),
        }
    }

    fn remove(&mut self, key: &str) {
        self.0.remove(key);
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        self.0
            .keys(prefix)
            .split_terminator('\n')
            .map(String::from)
            .collect()
    }
}

/// `crypto.getRandomValues` through the host (which falls back to `Math.random`).
pub struct HostRandom(pub Host);

impl Random for HostRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        self.0.random(buf);
    }
}
