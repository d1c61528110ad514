//! The core's injected services backed by `js/host.js`: `localStorage` (or an in-memory map)
//! as [`Storage`], `crypto.getRandomValues` as [`Random`].
//!
//! Three free functions imported from that module, taking and returning strings, instead of
//! web-sys's `Window`/`Storage`/`Crypto`/`DomException` bindings or a host object: no JS object
//! crosses into wasm, so wasm-bindgen's externref glue stays out of the module.

use crate::core::text::split_all;
use crate::core::{Random, Storage, StorageError};
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/host.js")]
extern "C" {
    /// The value under `key`, if any; with `list`, every key starting with `key`, sorted,
    /// separated by `'\n'`. One import for both reads: each import returning a string has its
    /// own glue in the module and in the generated JS.
    #[wasm_bindgen(js_name = hostGet)]
    fn host_get(key: &str, list: bool) -> Option<String>;

    /// Stores `value` under `key`, or deletes `key` when `value` is `None` (one import for
    /// both writes): 0 done, 1 quota exceeded, anything else storage unavailable.
    #[wasm_bindgen(js_name = hostSet)]
    fn host_set(key: &str, value: Option<&str>) -> u32;

    /// Fills `buf` with random bytes (`Math.random` where `crypto` is missing).
    #[wasm_bindgen(js_name = hostRandom)]
    fn host_random(buf: &mut [u8]);
}

/// The page's storage through `js/host.js`: the store its `hostOpen(persist)` selected, which the
/// entry calls before [`super::create`]: `localStorage` when `persist` and the page may use it
/// (not in private mode, sandboxed iframes or with storage disabled); otherwise a fresh
/// in-memory map, so unsent batches live as long as the page. One store per page: opening
/// again replaces the previous one. (The JS opens it rather than the module: an import less.)
pub struct HostStorage;

impl Storage for HostStorage {
    fn get(&self, key: &str) -> Option<String> {
        host_get(key, false)
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), StorageError> {
        match host_set(key, Some(value)) {
            0 => Ok(()),
            1 => Err(StorageError::Quota),
            _ => Err(StorageError::Unavailable),
        }
    }

    fn remove(&mut self, key: &str) {
        host_set(key, None);
    }

    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        let mut keys = Vec::new();
        for key in split_all(&host_get(prefix, true).unwrap_or_default(), b'\n') {
            if !key.is_empty() {
                keys.push(key.to_owned());
            }
        }
        keys
    }
}

/// `crypto.getRandomValues` through `js/host.js`.
pub struct HostRandom;

impl Random for HostRandom {
    fn fill(&mut self, buf: &mut [u8]) {
        host_random(buf);
    }
}
