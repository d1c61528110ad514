//! Tracewire browser logger (being built).
