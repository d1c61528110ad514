//! Log levels. The wire accepts them case-insensitively with the aliases `warn` and `fatal`,
//! because browser consoles and Rust's `tracing` spell them differently.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Severity of a log entry, ordered from least to most severe so `min_level` filters can compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "UPPERCASE")]
pub enum Level {
    /// Diagnostic detail, usually disabled in production.
    Debug,
    /// Normal operation worth recording.
    Info,
    /// Something unexpected that the application survived.
    Warning,
    /// An operation failed.
    Error,
    /// The application or a major part of it cannot continue.
    Critical,
}

impl Level {
    /// Every level, least severe first.
    pub const ALL: [Level; 5] = [
        Level::Debug,
        Level::Info,
        Level::Warning,
        Level::Error,
        Level::Critical,
    ];

    /// The canonical spelling stored in the database and sent on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Debug => "DEBUG",
            Level::Info => "INFO",
            Level::Warning => "WARNING",
            Level::Error => "ERROR",
            Level::Critical => "CRITICAL",
        }
    }

    /// A small integer that preserves the ordering, for storage and range filters.
    pub fn rank(self) -> i16 {
        match self {
            Level::Debug => 10,
            Level::Info => 20,
            Level::Warning => 30,
            Level::Error => 40,
            Level::Critical => 50,
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not a level name or alias.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown level {0:?}; expected DEBUG, INFO, WARNING, ERROR or CRITICAL")]
pub struct UnknownLevel(pub String);

impl FromStr for Level {
    type Err = UnknownLevel;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let level = match s.trim().to_ascii_uppercase().as_str() {
            "DEBUG" => Level::Debug,
            "INFO" => Level::Info,
            "WARNING" | "WARN" => Level::Warning,
            "ERROR" => Level::Error,
            "CRITICAL" | "FATAL" => Level::Critical,
            _ => return Err(UnknownLevel(s.to_owned())),
        };
        Ok(level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_and_case() {
        assert_eq!("warn".parse::<Level>().unwrap(), Level::Warning);
        assert_eq!("Fatal".parse::<Level>().unwrap(), Level::Critical);
        assert_eq!("eRRoR".parse::<Level>().unwrap(), Level::Error);
        assert!("loud".parse::<Level>().is_err());
    }

    #[test]
    fn ordering_matches_rank() {
        for pair in Level::ALL.windows(2) {
            assert!(pair[0] < pair[1]);
            assert!(pair[0].rank() < pair[1].rank());
        }
    }
}
