//! The Tracewire collector.
