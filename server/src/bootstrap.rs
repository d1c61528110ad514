//! First-start setup (ARCHITECTURE.md §7): the first admin user and a default project with an
//! ingest key. Secrets come from the environment or are generated and handed back once, for the
//! binary to print; nothing here prints.

use crate::clock::now_us;
use crate::store::{IngestKeyRecord, NewUser, ProjectRecord, Store, StoreResult};
use argon2::password_hash::{PasswordHasher, SaltString, rand_core::OsRng};
use rand::Rng;
use rand::distr::Alphanumeric;
use sqlx::types::Json;
use uuid::Uuid;

/// Name of the project created on first start.
pub const DEFAULT_PROJECT: &str = "default";

/// What bootstrap created or found.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// Id of the oldest project: the one created as [`DEFAULT_PROJECT`] on the first start.
    pub project_id: Uuid,
    /// Generated admin password, when no `TRACEWIRE_ADMIN_PASSWORD` was given.
    pub generated_admin_password: Option<String>,
    /// Generated ingest key, when no `TRACEWIRE_INGEST_KEY` was given and none existed.
    pub generated_ingest_key: Option<String>,
}

/// Secrets supplied by the operator.
#[derive(Debug, Clone, Default)]
pub struct BootstrapSecrets {
    /// `TRACEWIRE_ADMIN_PASSWORD`: the first admin's password; read only while no user exists.
    pub admin_password: Option<String>,
    /// `TRACEWIRE_INGEST_KEY`; ensured to exist on the default project on every start.
    pub ingest_key: Option<String>,
}

impl BootstrapSecrets {
    /// Reads `TRACEWIRE_ADMIN_PASSWORD` and `TRACEWIRE_INGEST_KEY`.
    pub fn from_env() -> Self {
        let non_empty = |name| std::env::var(name).ok().filter(|v: &String| !v.is_empty());
        Self {
            admin_password: non_empty("TRACEWIRE_ADMIN_PASSWORD"),
            ingest_key: non_empty("TRACEWIRE_INGEST_KEY"),
        }
    }
}

/// Why first-start setup (or hashing a password for a user command) failed.
#[derive(Debug, thiserror::Error)]
pub enum BootstrapError {
    /// The store failed; nothing later in the setup was attempted.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// Hashing failed (only on a broken system RNG).
    #[error("password hashing failed: {0}")]
    Hash(String),
}

fn random_string(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// Hashes a password with Argon2id on a blocking thread (it takes tens of milliseconds).
pub async fn hash_password(password: String) -> Result<String, BootstrapError> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        argon2::Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| BootstrapError::Hash(e.to_string()))
    })
    .await
    .map_err(|e| BootstrapError::Hash(e.to_string()))?
}

/// Creates what a first start needs; safe to call on every start.
pub async fn bootstrap(
    store: &dyn Store,
    secrets: &BootstrapSecrets,
) -> Result<Bootstrap, BootstrapError> {
    let mut generated_admin_password = None;
    if store.count_users().await? == 0 {
        let password = match &secrets.admin_password {
            Some(p) => p.clone(),
            None => {
                let p = random_string(20);
                generated_admin_password = Some(p.clone());
                p
            }
        };
        store
            .insert_user(&NewUser {
                id: Uuid::now_v7(),
                username: "admin".into(),
                password_hash: hash_password(password).await?,
                role: "admin".into(),
                created_at: now_us(),
            })
            .await?;
    }

    let (project, created) = match store.default_project().await? {
        Some(p) => (p, false),
        None => {
            let p = ProjectRecord {
                id: Uuid::now_v7(),
                name: DEFAULT_PROJECT.into(),
                allow_frontend: true,
                allow_backend: true,
                created_at: now_us(),
            };
            store.insert_project(&p).await?;
            (p, true)
        }
    };

    let mut generated_ingest_key = None;
    let wanted = match &secrets.ingest_key {
        Some(k) => Some(k.clone()),
        None if created => {
            let k = format!("tw_{}", random_string(32));
            generated_ingest_key = Some(k.clone());
            Some(k)
        }
        None => None,
    };
    if let Some(key) = wanted {
        ensure_key(store, project.id, &key).await?;
    }
    Ok(Bootstrap {
        project_id: project.id,
        generated_admin_password,
        generated_ingest_key,
    })
}

/// Stores `key` (its hash) on the project unless it exists; the key itself is only returned to
/// be printed once.
async fn ensure_key(store: &dyn Store, project_id: Uuid, key: &str) -> StoreResult<()> {
    let key_hash = crate::ingest::keys::key_hash(key);
    if store.find_ingest_key(&key_hash).await?.is_some() {
        return Ok(());
    }
    store
        .insert_ingest_key(&IngestKeyRecord {
            id: Uuid::now_v7(),
            project_id,
            key_hash,
            allowed_origins: Json(Vec::new()),
            revoked: false,
            created_at: now_us(),
        })
        .await
}
