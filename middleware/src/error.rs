//! The crate's one error type, returned when the middleware is set up. Once running, nothing
//! fails towards the application: delivery problems are counted in [`crate::Stats`].

/// Why the middleware could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A setting is out of range; the message names it.
    #[error("invalid tracewire configuration: {0}")]
    InvalidConfig(String),
    /// The shipper needs a Tokio runtime to run its background task.
    #[error("tracewire must be initialised inside a Tokio runtime")]
    NoRuntime,
    /// The collector endpoint is not a usable URL (or needs TLS that is not compiled in).
    #[error("invalid collector endpoint {endpoint:?}: {reason}")]
    InvalidEndpoint {
        /// The endpoint as configured.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The HTTP client could not be built.
    #[error("could not build the HTTP client: {0}")]
    HttpClient(#[from] reqwest::Error),
}
