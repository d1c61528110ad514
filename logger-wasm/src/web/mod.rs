//! Browser glue (being built).
