//! User management behind `tracewire user add` and `tracewire user passwd`: checked names and
//! roles, argon2 hashing on a blocking thread, and a clear error when the name is taken.

use crate::bootstrap::hash_password;
use crate::clock::now_us;
use crate::error::{Error, Result};
use crate::store::{AuditRecord, NewUser, Store};
use tracewire_shared::validate::FieldError;
use uuid::Uuid;

/// Shortest password accepted for new users.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Checks a new user's fields; every problem is listed.
pub fn validate_new_user(username: &str, password: &str, role: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let name_ok = (1..=64).contains(&username.len())
        && username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !name_ok {
        errors.push(FieldError::new(
            "username",
            "1 to 64 characters from A-Z, a-z, 0-9, '.', '_' and '-'",
        ));
    }
    if password.chars().count() < MIN_PASSWORD_CHARS {
        errors.push(FieldError::new(
            "password",
            format!("at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if !matches!(role, "admin" | "viewer") {
        errors.push(FieldError::new("role", "admin or viewer"));
    }
    errors
}

/// Creates a user and records who did it in `audit_logs` (a configuration change); a taken
/// username is a validation error on `username` that says so in words.
pub async fn add_user(
    store: &dyn Store,
    actor: &str,
    username: &str,
    password: &str,
    role: &str,
) -> Result<Uuid> {
    let errors = validate_new_user(username, password, role);
    if !errors.is_empty() {
        return Err(Error::Validation(errors));
    }
    let password_hash = hash_password(password.to_owned())
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    let id = Uuid::now_v7();
    store
        .insert_user(&NewUser {
            id,
            username: username.to_owned(),
            password_hash,
            role: role.to_owned(),
            created_at: now_us(),
        })
        .await
        .map_err(|e| match e {
            crate::store::StoreError::Conflict(_) => Error::Validation(vec![FieldError::new(
                "username",
                format!("a user named `{username}` already exists"),
            )]),
            other => Error::Store(other),
        })?;
    store
        .insert_audit(&AuditRecord {
            actor: actor.to_owned(),
            action: "users.add".into(),
            target: Some(username.to_owned()),
            details: serde_json::json!({ "role": role }),
        })
        .await?;
    Ok(id)
}

/// Sets a new password for an existing user and ends that user's sessions (the way back in for
/// an admin who missed the password printed on first start).
pub async fn set_password(
    store: &dyn Store,
    actor: &str,
    username: &str,
    password: &str,
) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::Validation(vec![FieldError::new(
            "password",
            format!("at least {MIN_PASSWORD_CHARS} characters"),
        )]));
    }
    let unknown = || {
        Error::Validation(vec![FieldError::new(
            "username",
            format!("no user named `{username}`"),
        )])
    };
    let user = store
        .find_user_by_name(username)
        .await?
        .ok_or_else(unknown)?;
    let password_hash = hash_password(password.to_owned())
        .await
        .map_err(|e| Error::Internal(e.to_string()))?;
    if !store.set_password(user.id, &password_hash).await? {
        return Err(unknown());
    }
    store
        .insert_audit(&AuditRecord {
            actor: actor.to_owned(),
            action: "users.passwd".into(),
            target: Some(username.to_owned()),
            details: serde_json::json!({}),
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_passwords_and_roles_are_checked() {
        assert!(validate_new_user("ops.viewer", "long enough", "viewer").is_empty());
        let paths: Vec<String> = validate_new_user("bad name", "short", "root")
            .into_iter()
            .map(|e| e.path)
            .collect();
        assert_eq!(paths, ["username", "password", "role"]);
    }
}
