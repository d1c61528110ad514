//! One module per page.

pub mod alert_form;
pub mod alert_history;
pub mod alerts;
pub mod exception;
pub mod exceptions;
pub mod login;
pub mod logs;
pub mod metrics;
pub mod overview;
pub mod trace;
