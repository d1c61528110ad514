//! Tracewire backend middleware (being built).
