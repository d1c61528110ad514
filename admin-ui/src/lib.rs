//! Placeholder for the Leptos admin UI; the collector serves a minimal status page until it lands.
