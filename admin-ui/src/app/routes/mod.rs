//! One module per page.

pub mod exception;
pub mod exceptions;
pub mod login;
pub mod logs;
pub mod trace;
